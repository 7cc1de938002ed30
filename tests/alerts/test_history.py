"""The outcome to compare with, read from real signed ledger entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gates.alerts import PreviousOutcome, previous_gate, previous_recheck, should_alert
from gates.engine.actions import approve, promote, register
from gates.ledger.entry import Entry
from gates.stages import Stage
from tests.support.alerts import fail, make_event
from tests.support.world import T0, World

POLICY = "sha256:" + "0" * 64


def at(days: float) -> Any:
    return T0 + timedelta(days=days)


def recheck(
    world: World, day: float, verdict: str, checks: dict[str, str], alert: str | None
) -> Entry:
    session = world.session
    state = session.ledger.state("alpha")
    assert state.stage is not None
    record: dict[str, Any] = {
        "stage": state.stage.value,
        "verdict": verdict,
        "policyDigest": POLICY,
        "checks": [
            {"check": c, "kind": "slo", "status": s, "reason": f"{c} {s}"}
            for c, s in checks.items()
        ],
    }
    if alert is not None:
        record["alert"] = {"status": alert, "detail": ""}
    return session.ledger.append(
        state,
        session.signer,
        kind="recheck",
        after=state.stage,
        actor=session.actor,
        time=at(day),
        records={"recheck": record},
    )


def history(world: World) -> tuple[Entry, ...]:
    return world.session.ledger.state("alpha").history


def test_previous_recheck_is_the_last_of_the_stage_with_its_alert_status(
    world: World,
) -> None:
    register(world.session, "alpha", now=at(0))
    recheck(world, 1, "fail", {"timebox": "fail"}, "failed")
    recheck(world, 2, "warn", {"timebox": "warn", "cost": "pass", "x": "skipped"}, "sent")
    assert previous_recheck(history(world), "explore") == PreviousOutcome(
        verdict="warn", checks=(("timebox", "warn"),), delivered=True, alert="sent", sequence=2
    )
    assert previous_recheck(history(world), Stage.EXPLORE) is not None
    assert previous_recheck(history(world), "poc") is None


def test_recheck_without_alert_record_or_with_failed_alert_is_not_delivered(
    world: World,
) -> None:
    register(world.session, "alpha", now=at(0))
    recheck(world, 1, "fail", {"timebox": "fail"}, None)
    prior = previous_recheck(history(world), "explore")
    assert prior is not None and prior.alert is None and not prior.delivered
    recheck(world, 2, "fail", {"timebox": "fail"}, "disabled")
    prior = previous_recheck(history(world), "explore")
    assert prior is not None and prior.alert == "disabled" and not prior.delivered


def test_recheck_history_starts_again_when_the_stage_changes(world: World) -> None:
    register(world.session, "alpha", now=at(0))
    recheck(world, 1, "fail", {"timebox": "fail"}, "sent")
    for signer, role in ((world.sponsor, "sponsor"), (world.budget_owner, "budget_owner")):
        approve(world.session, "alpha", signer, role=role, now=at(9))
    assert promote(world.session, "alpha", Stage.POC, now=at(10)).promoted
    assert previous_recheck(history(world), "explore") is None


def test_unchanged_recheck_failure_read_from_the_ledger_stays_quiet(world: World) -> None:
    register(world.session, "alpha", now=at(0))
    recheck(world, 1, "fail", {"timebox": "fail"}, "sent")
    event = make_event(stage="explore", checks=(fail("timebox"),))
    assert should_alert(event, previous_recheck(history(world), "explore"))[0] is False
    recheck(world, 2, "fail", {"timebox": "fail"}, "unchanged")
    assert should_alert(event, previous_recheck(history(world), "explore"))[0] is False


def test_previous_gate_is_the_last_gate_to_the_target_and_blocked_counts_as_delivered(
    world: World,
) -> None:
    register(world.session, "alpha", now=at(0))
    assert previous_gate(history(world), "poc") is None
    blocked = promote(world.session, "alpha", Stage.POC, now=at(5))
    assert not blocked.promoted
    prior = previous_gate(history(world), Stage.POC)
    assert prior is not None
    assert prior.verdict == "blocked" and prior.delivered and prior.sequence == 1
    failing = {(r.check, r.status.value) for r in blocked.evaluation.results if r.status.blocks}
    assert failing and failing <= set(prior.checks)
    assert all(status != "pass" for _, status in prior.checks)
    again = make_event(
        kind="promotion",
        stage="explore",
        target="poc",
        verdict="blocked",
        checks=tuple(
            fail(r.check, r.status.value)
            for r in blocked.evaluation.results
            if r.status.value in ("fail", "error", "warn")
        ),
    )
    assert should_alert(again, prior)[0] is False
    assert previous_gate(history(world), "pilot") is None


def test_passing_gate_is_not_counted_as_an_alert(world: World) -> None:
    register(world.session, "alpha", now=at(0))
    for signer, role in ((world.sponsor, "sponsor"), (world.budget_owner, "budget_owner")):
        approve(world.session, "alpha", signer, role=role, now=at(9))
    promote(world.session, "alpha", Stage.POC, now=at(10))
    prior = previous_gate(history(world), "poc")
    assert prior is not None and prior.verdict == "pass" and not prior.delivered
