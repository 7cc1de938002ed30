"""A promotion rehearsed: every check of the gate evaluated, nothing written anywhere.

``promote --dry-run`` asks "what am I missing?" without paying for it with a signed
blocked entry. It takes the gate's own steps (``plan_promotion``, ``run_gate``) and
stops before ``record_gate``: no entry, no alias move, no alert. A use case that is not
registered yet is judged as if it had entered Explore now, so a newcomer sees
everything its first gate needs before the first entry exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gates.checks.interface import CheckRegistry
from gates.checks.registry import DEFAULT_CHECKS
from gates.engine.actions import lock_record, plan_promotion
from gates.engine.followups import recorded_promotion
from gates.engine.gate import GateEvaluation, run_gate
from gates.engine.next_steps import Commands, Step, gate_steps
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.ledger.statement import CriteriaLock
from gates.results import Verdict
from gates.stages import Stage
from gates.workspace.session import Session


@dataclass(frozen=True)
class DryRun:
    usecase_id: str
    target: Stage
    #: The gate as it would be evaluated now; None when the pass is already recorded.
    evaluation: GateEvaluation | None
    #: The passing gate entry into ``target`` the ledger already holds, if any.
    recorded: Entry | None
    #: The use case is not registered: it was judged as if it had entered Explore now.
    unregistered: bool
    #: What to do, in order, for the gate to pass.
    steps: tuple[Step, ...]

    @property
    def verdict(self) -> Verdict:
        if self.evaluation is None:
            return Verdict.PASS
        return self.evaluation.verdict


def dry_run_promotion(
    session: Session,
    usecase_id: str,
    target: Stage,
    now: datetime | None = None,
    *,
    checks: CheckRegistry = DEFAULT_CHECKS,
    commands: Commands | None = None,
) -> DryRun:
    """Evaluate the gate into ``target`` as ``promote`` would, and write nothing.

    Illegal moves are refused as ``promote`` refuses them (``PromotionRefused``).
    """
    commands = commands or Commands()
    state = session.ledger.state(usecase_id)
    recorded = recorded_promotion(state, target)
    if recorded is not None:
        return DryRun(usecase_id, target, None, recorded, False, ())
    unregistered = state.stage is None and target is Stage.POC
    if unregistered:
        state = as_if_registered(session, state, usecase_id, now)
    plan = plan_promotion(session, state, usecase_id, target, now, checks=checks)
    evaluation = run_gate(plan)
    steps = gate_steps(
        session.workspace,
        state,
        usecase_id,
        plan.stage,
        plan.criteria,
        evaluation.results,
        commands,
    )
    if unregistered:
        first = Step("register the use case: it enters Explore", commands("register", usecase_id))
        steps = [first, *steps]
    return DryRun(usecase_id, target, evaluation, None, unregistered, tuple(steps))


def as_if_registered(
    session: Session, state: ChainState, usecase_id: str, now: datetime | None
) -> ChainState:
    """The chain as registration would leave it at ``now``: in Explore, its criteria locked."""
    session.workspace.usecase(usecase_id)  # an unknown id is named as such
    when = session.clock.stamp(now, what=f"a gate evaluation of {usecase_id}")
    lock = lock_record(session, usecase_id, Stage.EXPLORE)
    assert lock is not None  # Explore always has exit criteria to lock
    return ChainState(
        usecase=usecase_id,
        stage=Stage.EXPLORE,
        entered_at=when,
        lock=CriteriaLock.model_validate(lock),
        next_sequence=state.next_sequence,
    )
