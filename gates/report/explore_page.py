"""Page data for the report's Explore page: scored candidates, the matrix, the selections.

The page exists when the workspace has a candidates file. It shows the ranking as
``stagegate explore score`` computes it now, and, from the ledger, every signed
selection with its rationale, saying whether it was made on the same candidates and
weights (same digest) as the file shows today.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from gates.errors import ConfigError, StagegateError
from gates.explore.matrix import priority_matrix_svg
from gates.explore.rules import TIE_BREAK
from gates.explore.scoring import FEASIBILITY_HOW, Ranking
from gates.explore.selection import candidates_path, workspace_ranking
from gates.ledger.entry import entry_key, open_entry
from gates.report.models import Banner, Field, is_usecase_id
from gates.store.interface import ObjectStore
from gates.workspace.session import Session


@dataclass(frozen=True)
class CriterionCell:
    criterion: str
    level: str
    score: str
    explanation: str


@dataclass(frozen=True)
class SelectionView:
    usecase: str
    sequence: int
    time: datetime
    rank: int
    of: int
    score: float
    rationale: str
    digest: str
    #: Made on the candidates and weights the file holds today.
    current: bool
    linkable: bool


@dataclass(frozen=True)
class CandidateView:
    rank: int
    id: str
    title: str
    department: str
    owner: str
    sponsors: str
    score: str
    feasibility: str
    quadrant: str
    quadrant_key: str
    advice: str
    criteria: tuple[CriterionCell, ...]
    notes: str
    selections: tuple[SelectionView, ...]


@dataclass(frozen=True)
class ExploreView:
    source: str
    generated_at: datetime
    banner: Banner
    #: Why the file could not be scored (the rest of the ranking is then empty).
    error: str | None
    digest: str
    weights: tuple[Field, ...]
    feasible_at: str
    feasibility_how: str
    tie_break: str
    rows: tuple[CandidateView, ...]
    selections: tuple[SelectionView, ...]
    #: The priority matrix as inline SVG (escaped text only), empty on error.
    matrix: str


def _first_entries(store: ObjectStore, keys: list[str]) -> Iterator[tuple[str, bytes]]:
    """(key, bytes) of each of ``keys`` the store can read, in one concurrent, ordered
    read (``get_many``) rather than one request after another. A key it cannot read
    (a missing first entry: verification's to report, in the banner) is left out, and
    the read goes on after it: ``get_many`` raises at a key's own turn."""
    remaining = keys
    while remaining:
        handed = 0
        try:
            for key, raw in store.get_many(remaining):
                handed += 1
                yield key, raw
        except StagegateError:
            remaining = remaining[handed + 1 :]
            continue
        return


def _selections(session: Session, digest: str) -> tuple[SelectionView, ...]:
    """Every verified registration entry that carries a selection record."""
    ledger = session.ledger
    found = []
    keys = {entry_key(usecase, 0): usecase for usecase in ledger.usecases()}
    for key, raw in _first_entries(ledger.store, list(keys)):
        usecase = keys[key]
        entry, _ = open_entry(key, raw, ledger.trust, usecase, 0)
        if entry is None or entry.predicate.selection is None:
            continue
        s = entry.predicate.selection
        found.append(
            SelectionView(
                usecase=usecase,
                sequence=entry.sequence,
                time=entry.predicate.time,
                rank=s.rank,
                of=s.of,
                score=s.score,
                rationale=s.rationale,
                digest=s.candidates_digest,
                current=s.candidates_digest == digest,
                linkable=is_usecase_id(usecase),
            )
        )
    return tuple(sorted(found, key=lambda v: (v.time, v.rank, v.usecase)))


def _rows(ranking: Ranking, selections: tuple[SelectionView, ...]) -> tuple[CandidateView, ...]:
    rows = []
    for s in ranking.ranked:
        c = s.candidate
        rows.append(
            CandidateView(
                rank=s.rank,
                id=c.id,
                title=c.title,
                department=c.department,
                owner=c.owner,
                sponsors=", ".join(
                    f"{p.name} ({p.title})" if p.title else p.name for p in c.sponsors
                )
                or "—",
                score=f"{s.score:.1f}",
                feasibility=f"{s.feasibility:.2f}",
                quadrant=s.quadrant.label,
                quadrant_key=s.quadrant.key,
                advice=s.quadrant.advice,
                criteria=tuple(
                    CriterionCell(
                        x.criterion, x.level.replace("_", " "), f"{x.score:.2f}", x.explanation
                    )
                    for x in s.criteria
                ),
                notes=c.notes,
                selections=tuple(v for v in selections if v.usecase == c.id),
            )
        )
    return tuple(rows)


def build_explore(session: Session, banner: Banner, now: datetime) -> ExploreView | None:
    """The Explore page, or None when the workspace has no candidates file."""
    path = candidates_path(session)
    if not path.is_file():
        return None
    root = session.workspace.root
    source = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        ranking = workspace_ranking(session, path)
    except ConfigError as e:
        return ExploreView(
            source=source, generated_at=now, banner=banner, error=e.diagnostics(), digest="",
            weights=(), feasible_at="", feasibility_how=FEASIBILITY_HOW, tie_break=TIE_BREAK,
            rows=(), selections=_selections(session, ""), matrix="",
        )  # fmt: skip
    selections = _selections(session, ranking.digest)
    total = sum(ranking.rules.weights.values())
    chosen = {v.usecase for v in selections}
    return ExploreView(
        source=source,
        generated_at=now,
        banner=banner,
        error=None,
        digest=ranking.digest,
        weights=tuple(
            Field(name, f"{weight:g} ({100 * weight / total:.0f} % of the score)")
            for name, weight in ranking.rules.weights.items()
        ),
        feasible_at=f"{ranking.rules.feasible_at:g}",
        feasibility_how=FEASIBILITY_HOW,
        tie_break=TIE_BREAK,
        rows=_rows(ranking, selections),
        selections=selections,
        matrix=priority_matrix_svg(ranking, selected=chosen, chart_id="explore-matrix"),
    )
