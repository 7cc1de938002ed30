"""Where each use case stands: stage, days in stage against its time box, next checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gates.errors import StagegateError
from gates.ledger.replay import ChainState
from gates.stages import Stage, next_stage
from gates.workspace.loader import Workspace


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
            "nextCheckpoint": self.next_checkpoint,
            "checkpointDue": self.checkpoint_due.isoformat() if self.checkpoint_due else None,
            "entries": self.entries,
        }


def usecase_status(
    workspace: Workspace, usecase_id: str, state: ChainState, now: datetime
) -> UseCaseStatus:
    spec = workspace.usecases.get(usecase_id)
    title = spec.title if spec else "(no spec in this workspace)"
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
    )
