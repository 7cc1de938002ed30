"""Waiting for the approvals a gate needs: which are missing, and looking again until due.

Approvals are signatures by approvers' own keys, written to the ledger with
``stagegate approve``; waiting only re-reads the verified chain and plans the gate
again. Nothing typed into a run can stand in for one. ``ApprovalWait`` holds the rules
(what is missing, how long to pause, when to give up) and leaves the pausing to its
caller: ``wait`` sleeps in this thread, the async gate flow awaits between looks.
``wait_for_decision_approval`` does the same for a sponsor's approval of a No-Go or
rollback, which the gate's ``decision`` entry must cite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gates.engine.gate import GatePlan, plan_gate
from gates.ledger.replay import ChainState
from gates.workspace.session import Session


def missing_approvals(plan: GatePlan) -> dict[str, int]:
    """Per role, how many more distinct trusted approver keys the gate needs."""
    missing = {}
    for role, needed in sorted(plan.criteria.approvals.items()):
        have = len({a.keyid for a in plan.context.view.approvals if a.role == role})
        if needed > have:
            missing[role] = needed - have
    return missing


def missing_text(missing: dict[str, int]) -> str:
    """``1 budget_owner, 2 sponsor``: the approvals still missing, for a log line."""
    return ", ".join(f"{n} {role}" for role, n in missing.items())


@dataclass
class ApprovalWait:
    """The approvals a planned gate still waits for, until they are in or time is up.

    Each look plans the gate again: at the plan's own time on a simulated clock, at
    that moment on the system clock.
    """

    session: Session
    state: ChainState
    plan: GatePlan
    deadline: float
    poll: float
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def start(
        cls,
        session: Session,
        state: ChainState,
        plan: GatePlan,
        *,
        timeout: float,
        poll: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> ApprovalWait:
        return cls(session, state, plan, monotonic() + timeout, poll, monotonic)

    @property
    def missing(self) -> dict[str, int]:
        return missing_approvals(self.plan)

    def pause(self) -> float | None:
        """Seconds to wait before looking again; None when nothing is missing or time is up."""
        left = self.deadline - self.monotonic()
        if not self.missing or left <= 0:
            return None
        return max(0.0, min(self.poll, left))

    def look_again(self) -> None:
        """Re-read the verified chain and plan the gate again from it."""
        self.state = self.session.ledger.state(self.plan.usecase_id)
        self.plan = plan_gate(
            self.session.workspace,
            self.state,
            self.plan.usecase_id,
            self.plan.target,
            self.plan.context.now if self.session.clock.simulated else None,
            # The same checks: the criteria they were chosen by come from the same spec.
            checks={check.kind: check for check in self.plan.checks},
        )

    def wait(
        self,
        sleep: Callable[[float], object] = time.sleep,
        on_waiting: Callable[[dict[str, int]], object] | None = None,
    ) -> tuple[ChainState, GatePlan]:
        """Pause and look again until nothing is missing or time is up; the newest state and plan."""
        while (pause := self.pause()) is not None:
            if on_waiting is not None:
                on_waiting(self.missing)
            sleep(pause)
            self.look_again()
        return self.state, self.plan


def wait_for_decision_approval(
    session: Session,
    usecase_id: str,
    decision: str,
    to_stage: str,
    reason: str | None,
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], object] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_waiting: Callable[[], object] | None = None,
) -> bool:
    """Re-read the ledger until a sponsor's signed approval of this decision is in it.

    True as soon as one is (under the criteria in force, naming ``decision``,
    ``to_stage`` and, when given, ``reason``); False when ``timeout`` seconds pass first.
    """
    deadline = monotonic() + timeout
    while True:
        state = session.ledger.state(usecase_id)
        if state.approvals_of_decision(decision, to_stage, reason):
            return True
        left = deadline - monotonic()
        if left <= 0:
            return False
        if on_waiting is not None:
            on_waiting()
        sleep(max(0.0, min(poll, left)))
