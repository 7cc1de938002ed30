"""Select 1–2 scored candidates: a starter spec each, and a signed registration with why.

The selection is the Explore deliverable an auditor asks about ("why this one?"), so it
goes into the signed registration entry itself: the digest of the candidates and
weights that were scored, the rank, the score, each criterion's sub-score and reason,
and the deciders' rationale. Every input is checked before anything is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from gates.errors import ConfigError, PromotionRefused
from gates.explore.scoring import Ranking, ScoredCandidate, score_file
from gates.ledger.entry import Entry
from gates.ledger.statement import SelectionRecord
from gates.workspace.loader import SETTINGS_FILE, USECASES_DIR, load_workspace
from gates.workspace.session import Session

#: The playbook selects 1–2 use cases out of Explore.
MAX_SELECTED = 2


@dataclass(frozen=True)
class Selected:
    usecase: str
    entry: Entry
    scored: ScoredCandidate
    of: int
    #: The starter spec written for this use case, if it had none.
    spec_written: Path | None


@dataclass(frozen=True)
class SelectionOutcome:
    ranking: Ranking
    selected: tuple[Selected, ...]
    warnings: tuple[str, ...]


def candidates_path(session: Session, explicit: Path | None = None) -> Path:
    """The candidates file: ``explicit``, else the workspace's ``[explore] candidates``."""
    if explicit is not None:
        return explicit
    return Path(session.workspace.resolve(session.workspace.settings.explore.candidates))


def workspace_ranking(session: Session, path: Path | None = None) -> Ranking:
    """Score the workspace's candidates file under the workspace's weights."""
    return score_file(
        candidates_path(session, path),
        session.workspace.settings.explore.weights,
        str(session.workspace.root / SETTINGS_FILE),
    )


def selection_record(ranking: Ranking, scored: ScoredCandidate, rationale: str) -> SelectionRecord:
    criteria: dict[str, Any] = {c.criterion: c.to_json() for c in scored.criteria}
    criteria["feasibility"] = scored.placement_json(ranking.rules.feasible_at)
    return SelectionRecord.model_validate(
        {
            "candidatesDigest": ranking.digest,
            "rank": scored.rank,
            "of": len(ranking.ranked),
            "score": scored.score,
            "rationale": rationale,
            "criteria": criteria,
        }
    )


def starter_spec(scored: ScoredCandidate, ranking: Ranking, candidates_file: str | None) -> str:
    """A minimal, valid ``usecases/<id>.yaml`` from the candidate's own fields."""
    c = scored.candidate
    spec: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "owner": c.owner,
        "department": c.department,
        "sponsors": [s.model_dump() for s in c.sponsors],
    }
    if candidates_file:
        spec["evidence"] = {"deliverables": {"candidate_list": candidates_file}}
    head = (
        f"# Starter spec from the Explore candidates (rank {scored.rank} of {len(ranking.ranked)}, "
        f"score {scored.score:g}).\n"
        "# Add budgets, criteria overrides and the remaining evidence (priority_matrix,\n"
        "# selection_rationale, ...) before the gate to PoC; `stagegate validate` lists what is missing.\n"
    )
    return head + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def _check_request(
    session: Session, ranking: Ranking, ids: list[str], rationale: str, force: bool
) -> list[str]:
    if not ids:
        raise ConfigError("ID", ["name at least one candidate to select"])
    if not rationale.strip():
        raise ConfigError("--rationale", ["the selection rationale must not be empty"])
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError("ID", [f"{i!r} is named more than once" for i in twice])
    known = ", ".join(s.id for s in ranking.ranked)
    unknown = [i for i in ids if ranking.get(i) is None]
    if unknown:
        raise ConfigError(
            ranking.source,
            [f"{i!r} is not among the scored candidates (known: {known})" for i in unknown],
        )
    warnings = []
    if len(ids) > MAX_SELECTED:
        message = (
            f"{len(ids)} use cases selected; the playbook selects 1–{MAX_SELECTED} out of Explore "
            "to start small"
        )
        if not force:
            raise PromotionRefused(message, hint="select at most two, or pass --force")
        warnings.append(message)
    for i in ids:
        state = session.ledger.state(i)
        if state.stage is not None:
            raise PromotionRefused(f"{i}: already registered (stage {state.stage.value})")
        scored = ranking.get(i)
        assert scored is not None
        if scored.rank > MAX_SELECTED:
            warnings.append(
                f"{i} is ranked {scored.rank} of {len(ranking.ranked)}; the rationale should say "
                "why it was preferred"
            )
    return warnings


def _write_spec(path: Path, text: str) -> bool:
    """Create the spec only if there is none (never overwrite one written meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        return False
    return True


def select(
    session: Session,
    ids: list[str],
    *,
    rationale: str,
    candidates: Path | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> SelectionOutcome:
    """Register each chosen candidate with its selection record (one signed entry each)."""
    from gates.engine.actions import register

    ranking = workspace_ranking(session, candidates)
    warnings = _check_request(session, ranking, ids, rationale, force)
    root = session.workspace.root
    source = Path(ranking.source).resolve()
    relative = (
        os.path.relpath(source, root).replace(os.sep, "/") if source.is_relative_to(root) else None
    )
    written: dict[str, Path] = {}
    for i in ids:
        if i in session.workspace.usecases:
            continue
        scored = ranking.get(i)
        assert scored is not None
        path = root / USECASES_DIR / f"{i}.yaml"
        other = root / USECASES_DIR / f"{i}.yml"
        if not other.exists() and _write_spec(path, starter_spec(scored, ranking, relative)):
            written[i] = path
    if written:
        session = replace(session, workspace=load_workspace(root))
    selected = []
    for i in ids:
        scored = ranking.get(i)
        assert scored is not None
        record = selection_record(ranking, scored, rationale.strip())
        entry = register(session, i, now=now, selection=record)
        selected.append(Selected(i, entry, scored, len(ranking.ranked), written.get(i)))
    return SelectionOutcome(ranking, tuple(selected), tuple(warnings))
