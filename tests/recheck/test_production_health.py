"""Production health re-checks: the verdicts the playbook's numbers call for, recorded
in a signed entry with what was observed and what was expected."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gates.ledger.verify import verify_ledger
from gates.recheck.run import recheck_usecase
from gates.stages import Stage
from tests.support.presets import PRODUCTION_SPEC, add_monitored
from tests.support.world import World


def _production(world: World, uc: str = "svc") -> float:
    add_monitored(world, uc)
    return world.advance(uc, Stage.PRODUCTION)


def _check(outcome, name):  # type: ignore[no-untyped-def]
    return next(r for r in outcome.results if r.check == name)


def test_healthy_production_is_ok_and_recorded(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, daily_cost=500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert outcome.verdict == "ok", [(r.check, r.reason) for r in outcome.problems]
    assert not outcome.health_failed
    state = world.session.ledger.state("svc")
    assert state.stage is Stage.PRODUCTION  # a re-check never moves the stage
    entry = state.history[-1]
    assert entry.predicate.kind == "recheck" and entry.sequence == outcome.sequence
    assert entry.predicate.recheck is not None and entry.predicate.recheck.verdict == "ok"
    checks = {c.check for c in entry.predicate.recheck.checks}
    assert {"health:availability", "health:cost", "monitoring:alert-rules"} <= checks
    assert {"operations:runbook", "criteria:unchanged", "data:monitoring"} <= checks
    assert verify_ledger(world.session.ledger).intact


def test_availability_below_999_fails_with_observed_and_expected(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, availability=0.9985, daily_cost=500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert outcome.verdict == "fail" and outcome.health_failed
    entry = world.session.ledger.state("svc").history[-1]
    assert entry.predicate.recheck is not None
    recorded = next(c for c in entry.predicate.recheck.checks if c.check == "health:availability")
    assert recorded.status == "fail"
    assert recorded.observed == "99.85%" and recorded.expected == "≥ 99.9%"


def test_cost_at_85_percent_of_budget_warns(world: World) -> None:
    day = _production(world)
    # Budget 30,000/month; 850/day over a 30-day month is 25,500 = 85%.
    now = world.at(day + 12).replace(month=9, day=30, hour=23, minute=59)
    world.write_monitoring("svc", now, daily_cost=850)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    cost = _check(outcome, "health:cost")
    assert cost.status.value == "warn", cost.reason
    assert cost.observed == "85% of budget"
    assert outcome.verdict == "warn" and not outcome.health_failed


def test_cost_over_budget_fails(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, daily_cost=1500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert _check(outcome, "health:cost").status.value == "fail"


def test_quality_drop_of_six_percent_fails(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, quality=0.9 * 0.94, daily_cost=500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    daily = _check(outcome, "health:quality-daily")
    weekly = _check(outcome, "health:quality-weekly")
    assert daily.status.value == weekly.status.value == "fail"
    assert "-6.0%" in daily.reason and daily.expected == "within −5% of target 0.9"
    assert outcome.verdict == "fail" and outcome.health_failed


def test_quality_drop_of_four_percent_passes(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, quality=0.9 * 0.96, daily_cost=500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert _check(outcome, "health:quality-weekly").status.value == "pass"


@pytest.mark.parametrize(
    ("edit", "check"),
    [
        (lambda row: row.update(latency_p95_ms=1800.0), "health:latency-p95"),
        (lambda row: row.update(error_rate=0.009), "health:error-rate"),  # 4.5x median: spike
        (lambda row: row.update(major_incidents=1), "health:major-incidents"),
    ],
)
def test_newest_period_breaches_fail(world: World, edit, check) -> None:  # type: ignore[no-untyped-def]
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, daily_cost=500, last=edit)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert _check(outcome, check).status.value == "fail", _check(outcome, check).reason
    assert outcome.health_failed


def test_stale_monitoring_fails_freshness(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now - timedelta(days=5), daily_cost=500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert _check(outcome, "health:freshness").status.value == "fail"


def test_missing_alert_rule_and_runbook_fail(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, daily_cost=500)
    rules = world.root / "alerts" / "svc.yaml"
    rules.write_text(rules.read_text().replace("covers: cost_80", "covers: other"))
    (world.root / "docs" / "runbook.md").unlink()
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    alert_rules = _check(outcome, "monitoring:alert-rules")
    assert alert_rules.status.value == "fail" and "cost_80" in alert_rules.reason
    assert _check(outcome, "operations:runbook").status.value == "fail"


def test_bad_monitoring_data_fails_its_suite(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring(
        "svc", now, daily_cost=500, last=lambda row: row.update(availability=1.7)
    )
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert _check(outcome, "data:monitoring").status.value == "fail"
    assert outcome.verdict == "fail"


def test_unreadable_monitoring_is_error_never_ok(world: World) -> None:
    day = _production(world)
    now = world.at(day + 12)  # no monitoring file written at all
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert outcome.verdict == "error" and outcome.health_failed
    assert _check(outcome, "health:availability").status.value == "error"
    assert world.session.ledger.state("svc").history[-1].predicate.recheck.verdict == "error"  # type: ignore[union-attr]


def test_no_quality_target_is_an_error(world: World) -> None:

    no_target = PRODUCTION_SPEC.replace(
        "recheck:\n  production:\n    health: {{quality: {{target: 0.9}}}}\n", ""
    )
    assert no_target != PRODUCTION_SPEC
    add_monitored(world, "svc", spec=no_target)
    day = world.advance("svc", Stage.PRODUCTION)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, daily_cost=500)
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert _check(outcome, "health:quality-daily").status.value == "error"


def test_thresholds_loosened_in_the_spec_after_production_started_change_nothing_but_the_lock_check(
    world: World,
) -> None:
    """The re-check judges by the thresholds locked when Production started, not by today's spec."""
    day = _production(world)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, availability=0.9985, daily_cost=500)
    spec = world.root / "usecases" / "svc.yaml"
    spec.write_text(
        spec.read_text().replace(
            "health: {quality: {target: 0.9}}",
            "health: {quality: {target: 0.9}, availability_min: 0.99}",
        )
    )
    add_monitored(world, "svc", spec=spec.read_text())
    outcome = recheck_usecase(world.session, "svc", now, notify=False)
    assert outcome.verdict == "fail" and outcome.health_failed
    assert _check(outcome, "health:availability").status.value == "fail"
    assert _check(outcome, "health:availability").expected == "≥ 99.9%"
    unchanged = _check(outcome, "criteria:unchanged")
    assert unchanged.status.value == "fail" and "re-check thresholds" in unchanged.reason
    assert verify_ledger(world.session.ledger).intact
