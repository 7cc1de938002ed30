"""Waiting for signed approvals in-process: the rules the gate flow waits by, with our own sleep."""

from __future__ import annotations

from pathlib import Path

from gates.engine.actions import plan_promotion
from gates.engine.approvals import ApprovalWait, missing_approvals, missing_text
from gates.stages import Stage
from tests.support.presets import GATE_TIME, UC, approve_gate_exit, gate_spec, gate_world


class Ticking:
    """A monotonic clock that moves only when the wait sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_the_wait_looks_again_after_each_pause_until_the_signed_approvals_are_in(
    tmp_path: Path,
) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False)
    session = world.new_session()
    state = session.ledger.state(UC)
    plan = plan_promotion(session, state, UC, Stage.POC, GATE_TIME)
    clock = Ticking()
    heard: list[str] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.pauses) == 2:  # the approvers sign while the gate waits
            approve_gate_exit(world)

    waiting = ApprovalWait.start(session, state, plan, timeout=60, poll=5, monotonic=clock)
    state, plan = waiting.wait(sleep, lambda missing: heard.append(missing_text(missing)))

    assert clock.pauses == [5, 5]
    assert heard == ["1 budget_owner, 1 sponsor"] * 2
    assert missing_approvals(plan) == {}
    assert len(plan.context.view.approvals) == 2 and state.entries == 3
    assert plan.context.now == GATE_TIME  # a simulated clock keeps the plan's time
    assert plan.kinds == waiting.plan.kinds and "approvals" in plan.kinds


def test_the_wait_gives_up_at_its_deadline_with_a_last_shorter_pause(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False)
    session = world.new_session()
    state = session.ledger.state(UC)
    plan = plan_promotion(session, state, UC, Stage.POC, GATE_TIME)
    clock = Ticking()

    waiting = ApprovalWait.start(session, state, plan, timeout=12, poll=5, monotonic=clock)
    _, plan = waiting.wait(clock.sleep)

    assert clock.pauses == [5, 5, 2]
    assert missing_approvals(plan) == {"budget_owner": 1, "sponsor": 1}


def test_nothing_missing_or_no_time_means_no_wait(tmp_path: Path) -> None:
    approved = gate_world(tmp_path / "approved", gate_spec())
    waiting_for = gate_world(tmp_path / "waiting", gate_spec(), approvals=False)
    for world, timeout in ((approved, 60.0), (waiting_for, 0.0)):
        session = world.new_session()
        state = session.ledger.state(UC)
        plan = plan_promotion(session, state, UC, Stage.POC, GATE_TIME)
        clock = Ticking()

        ApprovalWait.start(session, state, plan, timeout=timeout, poll=5, monotonic=clock).wait(
            clock.sleep
        )

        assert clock.pauses == []
