"""Each use case's path through the roadmap, read from its verified chain.

The Scale review must rest on the same evidence as everything else: stage-entry times
come only from signed, verified ledger entries. The spec adds declared facts the ledger
does not carry (department, shared components). A chain that fails verification stops
the review with a ``LedgerError``: numbers from a tampered ledger would be worse than none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gates.errors import LedgerError
from gates.ledger.chain import Ledger
from gates.ledger.entry import Entry
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.usecase import UseCaseSpec

#: Stages in which a use case runs in production.
IN_PRODUCTION = (Stage.PRODUCTION, Stage.SCALE)


@dataclass(frozen=True)
class MonthlyCost:
    """The monthly production cost the passing Pilot → Production gate held to the budget."""

    amount: float
    currency: str
    method: str
    sequence: int


@dataclass(frozen=True)
class Journey:
    usecase: str
    #: From the spec; None when the workspace has no spec for this chain.
    department: str | None
    components: tuple[str, ...]
    registered_at: datetime
    #: Every stage entered, oldest first (registration into Explore first).
    stages: tuple[tuple[datetime, Stage], ...]
    #: When the use case first entered Production (a later re-entry is not a new arrival).
    production_at: datetime | None
    production_cost: MonthlyCost | None
    #: Digest of the newest entry read, so a result can be tied to the chain it came from.
    head: str

    def stage_at(self, when: datetime) -> Stage | None:
        """The stage after every entry strictly before ``when``."""
        current = None
        for time, stage in self.stages:
            if time >= when:
                break
            current = stage
        return current


def journey_of(usecase: str, history: Iterable[Entry], spec: UseCaseSpec | None) -> Journey | None:
    """Fold verified entries into a journey; None for a chain without a registration."""
    registered: datetime | None = None
    stages: list[tuple[datetime, Stage]] = []
    production_at: datetime | None = None
    cost: MonthlyCost | None = None
    head = ""
    for entry in history:
        p = entry.predicate
        head = entry.digest
        after = Stage(p.stage.after)
        if p.kind == "registration" and registered is None:
            registered = p.time
        if not stages or stages[-1][1] is not after:
            stages.append((p.time, after))
            if after is Stage.PRODUCTION and production_at is None:
                production_at = p.time
                cost = production_cost(entry)
    if registered is None:
        return None
    return Journey(
        usecase=usecase,
        department=spec.department if spec else None,
        components=tuple(sorted(set(spec.components))) if spec else (),
        registered_at=registered,
        stages=tuple(stages),
        production_at=production_at,
        production_cost=cost,
        head=head,
    )


def production_cost(entry: Entry) -> MonthlyCost | None:
    """The cost-forecast check's chosen production forecast, from its signed inputs."""
    gate = entry.predicate.gate
    if gate is None:
        return None
    for check in gate.checks:
        if check.kind != "cost-forecast":
            continue
        for evidence in check.evidence:
            details: Any = evidence.get("details")
            if evidence.get("kind") != "cost-inputs" or not isinstance(details, dict):
                continue
            if details.get("budget_stage") != Stage.PRODUCTION.value:
                continue
            method = details.get("method_used")
            for forecast in details.get("forecasts") or []:
                point = forecast.get("point") if isinstance(forecast, dict) else None
                if isinstance(point, (int, float)) and forecast.get("method") == method:
                    currency = str(details.get("currency") or "")
                    return MonthlyCost(float(point), currency, str(method), entry.sequence)
    return None


def read_journeys(ledger: Ledger, workspace: Workspace, as_of: datetime) -> list[Journey]:
    """Every registered use case's journey as of ``as_of`` (later entries are not read into it).

    Raises ``LedgerError`` naming the first violation when any chain fails verification.
    """
    journeys: list[Journey] = []
    for replayed in ledger.replay_all(ledger.index(), keep_history=True):
        usecase = replayed.state.usecase
        if replayed.violations:
            first = replayed.violations[0]
            raise LedgerError(
                f"ledger of {usecase!r} fails verification: {first}",
                hint="run `stagegate audit verify`; the Scale review reads only a verified ledger",
            )
        history = (e for e in replayed.state.history if e.predicate.time <= as_of)
        journey = journey_of(usecase, history, workspace.usecases.get(usecase))
        if journey is not None:
            journeys.append(journey)
    return journeys
