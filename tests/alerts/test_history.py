"""The outcome to compare with, read from real signed ledger entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gates.alerts import PreviousOutcome, previous_gate, previous_recheck, should_alert
from gates.engine.actions import approve, promote, register
from gates.ledger.entry import Entry
from gates.stages import Stage
from tests.ledger.conftest import T0

from .conftest import AlertLedger, fail, make_event

POLICY = "sha256:" + "0" * 64


def at(days: float) -> Any:
    return T0 + timedelta(days=days)


def recheck(
    ledger: AlertLedger, day: float, verdict: str, checks: dict[str, str], alert: str | None
) -> Entry:
    session = ledger.session
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


def history(ledger: AlertLedger) -> tuple[Entry, ...]:
    return ledger.session.ledger.state("alpha").history


def test_previous_recheck_is_the_last_of_the_stage_with_its_alert_status(
    ledger: AlertLedger,
) -> None:
    register(ledger.session, "alpha", now=at(0))
    recheck(ledger, 1, "fail", {"timebox": "fail"}, "failed")
    recheck(ledger, 2, "warn", {"timebox": "warn", "cost": "pass", "x": "skipped"}, "sent")
    assert previous_recheck(history(ledger), "explore") == PreviousOutcome(
        verdict="warn", checks=(("timebox", "warn"),), delivered=True, alert="sent", sequence=2
    )
    assert previous_recheck(history(ledger), Stage.EXPLORE) is not None
    assert previous_recheck(history(ledger), "poc") is None


def test_recheck_without_alert_record_or_with_failed_alert_is_not_delivered(
    ledger: AlertLedger,
) -> None:
    register(ledger.session, "alpha", now=at(0))
    recheck(ledger, 1, "fail", {"timebox": "fail"}, None)
    prior = previous_recheck(history(ledger), "explore")
    assert prior is not None and prior.alert is None and not prior.delivered
    recheck(ledger, 2, "fail", {"timebox": "fail"}, "disabled")
    prior = previous_recheck(history(ledger), "explore")
    assert prior is not None and prior.alert == "disabled" and not prior.delivered


def test_recheck_history_starts_again_when_the_stage_changes(ledger: AlertLedger) -> None:
    register(ledger.session, "alpha", now=at(0))
    recheck(ledger, 1, "fail", {"timebox": "fail"}, "sent")
    for signer, role in ((ledger.sponsor, "sponsor"), (ledger.budget_owner, "budget_owner")):
        approve(ledger.session, "alpha", signer, role=role, now=at(9))
    assert promote(ledger.session, "alpha", Stage.POC, now=at(10)).promoted
    assert previous_recheck(history(ledger), "explore") is None


def test_unchanged_recheck_failure_read_from_the_ledger_stays_quiet(ledger: AlertLedger) -> None:
    register(ledger.session, "alpha", now=at(0))
    recheck(ledger, 1, "fail", {"timebox": "fail"}, "sent")
    event = make_event(stage="explore", checks=(fail("timebox"),))
    assert should_alert(event, previous_recheck(history(ledger), "explore"))[0] is False
    recheck(ledger, 2, "fail", {"timebox": "fail"}, "unchanged")
    assert should_alert(event, previous_recheck(history(ledger), "explore"))[0] is False


def test_previous_gate_is_the_last_gate_to_the_target_and_blocked_counts_as_delivered(
    ledger: AlertLedger,
) -> None:
    register(ledger.session, "alpha", now=at(0))
    assert previous_gate(history(ledger), "poc") is None
    blocked = promote(ledger.session, "alpha", Stage.POC, now=at(5))
    assert not blocked.promoted
    prior = previous_gate(history(ledger), Stage.POC)
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
    assert previous_gate(history(ledger), "pilot") is None


def test_passing_gate_is_not_counted_as_an_alert(ledger: AlertLedger) -> None:
    register(ledger.session, "alpha", now=at(0))
    for signer, role in ((ledger.sponsor, "sponsor"), (ledger.budget_owner, "budget_owner")):
        approve(ledger.session, "alpha", signer, role=role, now=at(9))
    promote(ledger.session, "alpha", Stage.POC, now=at(10))
    prior = previous_gate(history(ledger), "poc")
    assert prior is not None and prior.verdict == "pass" and not prior.delivered
