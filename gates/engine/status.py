"""Where each use case stands: stage, days in stage against its time box, next checkpoint.

It also carries the roadmap facts (``gates.roadmap``): the current stage's slip against
the dated plan, the next decision and how many decisions are overdue; and its health:
the verdict, time and findings of the newest signed re-check of the current stage, so
that a passed gate followed by a warning re-check never reads as "all is well".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gates.errors import EvidenceError, StagegateError
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.risks import Risk, assess_risks
from gates.roadmap.tracking import Milestone, RoadmapTrack, milestones_of, track_roadmap
from gates.stages import Stage, next_stage
from gates.workspace.loader import Workspace
from gates.workspace.usecase import UseCaseSpec

#: The re-check statuses an auditor must look at, worst first.
FINDING_STATUSES = ("error", "fail", "warn")


@dataclass(frozen=True)
class Finding:
    """One check of a re-check that did not pass: what it saw against what was expected."""

    check: str
    status: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Health:
    """The newest signed re-check of the current stage."""

    verdict: str  # ok | warn | fail | error
    at: datetime
    sequence: int
    #: Its failing, erroring and warning checks, worst first.
    findings: tuple[Finding, ...]

    @property
    def summary(self) -> str:
        """``warn: health:cost`` — the verdict and the checks behind it."""
        named = ", ".join(f.check for f in self.findings)
        return f"{self.verdict}: {named}" if named else self.verdict


def health_of(entry: Entry | None) -> Health | None:
    """The health a re-check entry records, or None when there is none."""
    record = entry.predicate.recheck if entry is not None else None
    if entry is None or record is None:
        return None
    rank = {status: i for i, status in enumerate(FINDING_STATUSES)}
    findings = sorted((c for c in record.checks if c.status in rank), key=lambda c: rank[c.status])
    return Health(
        verdict=record.verdict,
        at=entry.predicate.time,
        sequence=entry.sequence,
        findings=tuple(Finding(c.check, c.status, c.reason) for c in findings),
    )


@dataclass(frozen=True)
class UseCaseStatus:
    id: str
    title: str
    stage: str
    entered_at: datetime | None
    days_in_stage: float | None
    planned_days: int | None
    max_days: int | None
    time_box: str  # within | over-planned | overdue | n/a
    last_gate: str | None
    last_verdict: str | None
    next_checkpoint: str | None
    checkpoint_due: datetime | None
    entries: int
    #: The playbook risks present (``gates.risks``), in their documented order.
    risks: tuple[Risk, ...] = ()
    #: Why the risks could not be assessed (e.g. an unreadable issue export), if so.
    risk_error: str | None = None
    #: The roadmap as of the status time: its plan against the ledger (``gates.roadmap``).
    roadmap: RoadmapTrack | None = None
    #: Why the roadmap could not be planned (e.g. overlapping ``roadmap.stages``), if so.
    roadmap_error: str | None = None
    #: The newest re-check of the current stage, if one was signed since the stage began.
    health: Health | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "stage": self.stage,
            "enteredAt": self.entered_at.isoformat() if self.entered_at else None,
            "daysInStage": round(self.days_in_stage, 1) if self.days_in_stage is not None else None,
            "plannedDays": self.planned_days,
            "maxDays": self.max_days,
            "timeBox": self.time_box,
            "lastGate": self.last_gate,
            "lastVerdict": self.last_verdict,
            **self.health_json(),
            "nextCheckpoint": self.next_checkpoint,
            "checkpointDue": self.checkpoint_due.isoformat() if self.checkpoint_due else None,
            "entries": self.entries,
            "risks": [r.to_json() for r in self.risks],
            "riskError": self.risk_error,
            **self.roadmap_json(),
        }

    def health_json(self) -> dict[str, object]:
        """``lastRecheckVerdict``, ``lastRecheckAt``, ``lastRecheckEntry``, ``lastRecheckFindings``."""
        h = self.health
        return {
            "lastRecheckVerdict": h.verdict if h else None,
            "lastRecheckAt": h.at.isoformat() if h else None,
            "lastRecheckEntry": h.sequence if h else None,
            "lastRecheckFindings": [f.to_json() for f in h.findings] if h else [],
        }

    def roadmap_json(self) -> dict[str, object]:
        """``slipDays``, ``nextDecision``, ``nextDecisionDue``, ``overdueDecisions``."""
        track = self.roadmap
        nxt = track.next_decision if track else None
        return {
            "slipDays": track.slip_days if track else None,
            "nextDecision": nxt.label if nxt else None,
            "nextDecisionDue": nxt.due.isoformat() if nxt else None,
            "overdueDecisions": len(track.overdue) if track else 0,
            "roadmapError": self.roadmap_error,
        }


def usecase_status(
    workspace: Workspace,
    usecase_id: str,
    state: ChainState,
    now: datetime,
    *,
    milestones: Sequence[Milestone] | None = None,
) -> UseCaseStatus:
    """The status as of ``now``; ``milestones`` stand in for a state replayed without history."""
    spec = workspace.usecases.get(usecase_id)
    title = spec.title if spec else "(no spec in this workspace)"
    roadmap, roadmap_error = _roadmap(workspace, usecase_id, spec, state, now, milestones)
    risks, risk_error = _risks(workspace, spec, state, now)
    stage = state.stage
    if stage is None:
        return UseCaseStatus(
            usecase_id,
            title,
            "unregistered",
            None,
            None,
            None,
            None,
            "n/a",
            None,
            None,
            f"register {usecase_id} to enter Explore",
            None,
            0,
            risks=risks,
            risk_error=risk_error,
            roadmap=roadmap,
            roadmap_error=roadmap_error,
        )
    days = (now - state.entered_at).total_seconds() / 86400 if state.entered_at else None
    planned = maximum = None
    if spec is not None and stage not in (Stage.SCALE, Stage.STOPPED):
        try:
            box = workspace.criteria(spec, stage).time_box
            planned, maximum = box.planned_days, box.max_days
        except StagegateError:
            pass
    if days is None or (planned is None and maximum is None):
        time_box = "n/a"
    elif maximum is not None and days > maximum:
        time_box = "overdue"
    elif planned is not None and days > planned:
        time_box = "over-planned"
    else:
        time_box = "within"
    due = None
    checkpoint = None
    target = next_stage(stage)
    if stage is Stage.STOPPED:
        checkpoint = None
    elif target is None:
        checkpoint = "quarterly Scale review"
    elif state.entered_at is not None:
        limit = maximum or planned
        due = state.entered_at + timedelta(days=limit) if limit else None
        checkpoint = f"Go/No-Go to {target.label}" + (
            f" by {due.date().isoformat()}" if due else ""
        )
    gate = state.last_gate.predicate.gate if state.last_gate else None
    return UseCaseStatus(
        id=usecase_id,
        title=title,
        stage=stage.value,
        entered_at=state.entered_at,
        days_in_stage=days,
        planned_days=planned,
        max_days=maximum,
        time_box=time_box,
        last_gate=f"{gate.from_stage}->{gate.to_stage}" if gate else None,
        last_verdict=gate.verdict if gate else None,
        next_checkpoint=checkpoint,
        checkpoint_due=due,
        entries=state.next_sequence,
        risks=risks,
        risk_error=risk_error,
        roadmap=roadmap,
        roadmap_error=roadmap_error,
        health=health_of(state.last_recheck),
    )


def _risks(
    workspace: Workspace, spec: UseCaseSpec | None, state: ChainState, now: datetime
) -> tuple[tuple[Risk, ...], str | None]:
    """The playbook risks; an unreadable issue export is reported, not fatal, for a status."""
    if spec is None:
        return (), None
    try:
        return tuple(assess_risks(workspace, spec, state, now)), None
    except EvidenceError as e:
        return (), f"risks not assessed: {e.message}"


def _roadmap(
    workspace: Workspace,
    usecase_id: str,
    spec: UseCaseSpec | None,
    state: ChainState,
    now: datetime,
    milestones: Sequence[Milestone] | None,
) -> tuple[RoadmapTrack | None, str | None]:
    """The roadmap from the verified chain; a bad override is reported, not fatal, for a status."""
    if milestones is None:
        if state.entries and not state.history:
            return None, None  # replayed without its entries: the actuals are unknown here
        milestones = milestones_of(state.history)
    source = str(workspace.sources.get(usecase_id, usecase_id))
    try:
        return track_roadmap(usecase_id, spec, milestones, now, source=source), None
    except StagegateError as e:
        return None, f"roadmap not planned: {e.message}"
