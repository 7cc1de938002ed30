"""Score and rank Explore candidates, and place each on the impact × feasibility matrix.

Every number is explained: each criterion gives a 0–1 sub-score with a one-line reason,
the total is ``100 × Σ weight·sub-score / Σ weight`` (two decimals), and feasibility is
the weighted mean of the four criteria other than impact. Ranking is deterministic and
independent of the order of the file: score (descending), then feasibility
(descending), then id (ascending).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gates.canonical import digest_of
from gates.explore.candidates import Candidate, CandidateSet, load_candidates
from gates.explore.rules import (
    CRITERIA,
    FEASIBILITY_CRITERIA,
    HIGH_IMPACT,
    TIE_BREAK,
    Criterion,
    Rules,
    default_rules,
)


@dataclass(frozen=True)
class Quadrant:
    key: str
    label: str
    advice: str


#: The four quadrants of the priority matrix: (high impact?, feasible?) → quadrant.
QUADRANTS: dict[tuple[bool, bool], Quadrant] = {
    (False, True): Quadrant(
        "quick-win", "quick win", "feasible, and a failure stays affordable: start here"
    ),
    (True, True): Quadrant(
        "strategic-bet", "strategic bet", "feasible but high-stakes: better after a first success"
    ),
    (True, False): Quadrant("moonshot", "moonshot", "high impact but hard to deliver: not a start"),
    (False, False): Quadrant(
        "deprioritise", "deprioritise", "hard to deliver for the value it brings"
    ),
}
FEASIBILITY_HOW = (
    "feasibility = weighted mean of the complexity, data, measurability and stakeholders "
    "sub-scores (same weights as the total)"
)


@dataclass(frozen=True)
class CriterionScore:
    criterion: Criterion
    level: str
    #: Sub-score from 0 to 1.
    score: float
    #: The weight as configured (relative).
    weight: float
    #: Contribution to the 0–100 total.
    points: float
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "score": self.score,
            "weight": self.weight,
            "points": self.points,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class ScoredCandidate:
    candidate: Candidate
    rank: int
    #: Weighted total, 0–100.
    score: float
    #: 0–1, the matrix's vertical axis.
    feasibility: float
    quadrant: Quadrant
    criteria: tuple[CriterionScore, ...]

    @property
    def id(self) -> str:
        return self.candidate.id

    def criterion(self, name: Criterion) -> CriterionScore:
        return next(c for c in self.criteria if c.criterion == name)

    def placement_json(self, feasible_at: float) -> dict[str, Any]:
        """Where the matrix puts this candidate, and why (recorded with a selection)."""
        return {
            "score": self.feasibility,
            "quadrant": self.quadrant.label,
            "explanation": f"{FEASIBILITY_HOW}; feasible at ≥ {feasible_at:g}; "
            f"impact {self.candidate.impact.replace('_', ' ')}: {self.quadrant.advice}",
        }

    def to_json(self, feasible_at: float) -> dict[str, Any]:
        c = self.candidate
        return {
            "rank": self.rank,
            "id": c.id,
            "title": c.title,
            "department": c.department,
            "owner": c.owner,
            "sponsors": [s.model_dump() for s in c.sponsors],
            "score": self.score,
            "feasibility": self.feasibility,
            "quadrant": self.quadrant.label,
            "criteria": {s.criterion: s.to_json() for s in self.criteria},
            "placement": self.placement_json(feasible_at),
            "notes": c.notes,
        }


@dataclass(frozen=True)
class Ranking:
    """Every candidate of one file, scored and ranked under one set of rules."""

    source: str
    #: sha256 of the canonical candidates (sorted by id) and the weights in force.
    digest: str
    rules: Rules
    ranked: tuple[ScoredCandidate, ...]

    def get(self, candidate_id: str) -> ScoredCandidate | None:
        return next((s for s in self.ranked if s.id == candidate_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "candidatesDigest": self.digest,
            "weights": dict(self.rules.weights),
            "feasibleAt": self.rules.feasible_at,
            "feasibility": FEASIBILITY_HOW,
            "tieBreak": TIE_BREAK,
            "candidates": [s.to_json(self.rules.feasible_at) for s in self.ranked],
        }


def candidates_digest(candidates: tuple[Candidate, ...], weights: Mapping[Any, float]) -> str:
    """Digest of what a ranking rests on: the candidates (by id, any file format) and weights."""
    return digest_of(
        {
            "candidates": [
                c.model_dump(mode="json") for c in sorted(candidates, key=lambda c: c.id)
            ],
            "weights": dict(weights),
        }
    )


def _score_one(
    candidate: Candidate, rules: Rules
) -> tuple[float, float, tuple[CriterionScore, ...]]:
    total_weight = sum(rules.weights.values())
    parts = []
    for criterion in CRITERIA:
        name = candidate.level(criterion)
        level = rules.level(criterion, name)
        weight = rules.weights[criterion]
        parts.append(
            CriterionScore(
                criterion=criterion,
                level=name,
                score=level.score,
                weight=weight,
                points=round(100 * weight * level.score / total_weight, 2),
                explanation=level.why,
            )
        )
    total = round(100 * sum(p.weight * p.score for p in parts) / total_weight, 2)
    feasible = [p for p in parts if p.criterion in FEASIBILITY_CRITERIA]
    feasibility = round(
        sum(p.weight * p.score for p in feasible) / sum(p.weight for p in feasible), 4
    )
    return total, feasibility, tuple(parts)


def rank_candidates(candidates: CandidateSet, rules: Rules | None = None) -> Ranking:
    """Score every candidate and rank them; the same candidates always rank the same."""
    rules = rules or default_rules()
    scored = []
    for candidate in candidates.candidates:
        total, feasibility, parts = _score_one(candidate, rules)
        quadrant = QUADRANTS[(candidate.impact in HIGH_IMPACT, feasibility >= rules.feasible_at)]
        scored.append((candidate, total, feasibility, quadrant, parts))
    scored.sort(key=lambda s: (-s[1], -s[2], s[0].id))
    ranked = tuple(
        ScoredCandidate(candidate, rank, total, feasibility, quadrant, parts)
        for rank, (candidate, total, feasibility, quadrant, parts) in enumerate(scored, start=1)
    )
    return Ranking(
        source=str(candidates.source),
        digest=candidates_digest(candidates.candidates, rules.weights),
        rules=rules,
        ranked=ranked,
    )


def effective_rules(
    candidates: CandidateSet,
    settings_weights: Mapping[Any, float] | None = None,
    settings_source: str = "stagegate.toml",
) -> Rules:
    """Shipped weights, then the workspace's ``[explore] weights``, then the file's own."""
    rules = default_rules().with_weights(
        settings_weights or {}, f"{settings_source}, explore section"
    )
    return rules.with_weights(candidates.weights, str(candidates.source))


def score_file(
    path: Path,
    settings_weights: Mapping[Any, float] | None = None,
    settings_source: str = "stagegate.toml",
) -> Ranking:
    """Load a candidates file and rank it under the effective weights."""
    candidates = load_candidates(path)
    return rank_candidates(
        candidates, effective_rules(candidates, settings_weights, settings_source)
    )
