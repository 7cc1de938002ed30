"""Re-checks of PoC, Pilot and any stage: time box, criteria lock, freshness, isolation."""

from __future__ import annotations

import pytest

from gates.recheck.run import recheck_usecase, targets
from gates.stages import Stage
from tests.support.presets import add_monitored
from tests.support.world import World


def _check(outcome, name):  # type: ignore[no-untyped-def]
    return next(r for r in outcome.results if r.check == name)


def test_poc_in_its_seventh_week_is_go_no_go_overdue(world: World) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.POC)
    outcome = world.recheck("bot", entered + 43)
    box = _check(outcome, "time-box")
    assert box.status.value == "fail" and "Go/No-Go decision overdue" in box.reason
    assert outcome.verdict == "fail"
    assert not outcome.health_failed  # not a production health failure


def test_poc_in_its_fifth_week_warns_past_planned(world: World) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.POC)
    outcome = world.recheck("bot", entered + 30)
    assert _check(outcome, "time-box").status.value == "warn"


def test_pilot_past_90_days_fails(world: World) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.PILOT)
    assert (
        _check(
            world.recheck("bot", entered + 91),
            "time-box",
        ).status.value
        == "fail"
    )


def test_criteria_changed_without_amendment_fails(world: World) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.POC)
    policy = world.root / "policy.yaml"
    policy.write_text(policy.read_text().replace("max_days: 42", "max_days: 60"))
    world.session = type(world.session).open(world.root)
    outcome = world.recheck("bot", entered + 3)
    changed = _check(outcome, "criteria:unchanged")
    assert changed.status.value == "fail" and "amend" in changed.reason


def test_stale_poc_evidence_warns(world: World) -> None:
    spec = (
        "id: bot\ntitle: Bot\nowner: o@example.com\ndepartment: support\n"
        "sponsors: [{name: A}, {name: B}]\nbudgets: {poc: 100, pilot: 100}\n"
        "criteria:\n  poc:\n    datasets: [{dataset: test_set, suite: poc_test_set}]\n"
        "evidence:\n  datasets: {test_set: data/test.csv}\n"
    )
    add_monitored(world, "bot", spec=spec)
    data = world.root / "data" / "test.csv"
    data.write_text("id,input,expected,timestamp\n1,a,b,2026-06-05T00:00:00Z\n")
    entered = world.advance("bot", Stage.POC)
    fresh = world.recheck("bot", entered + 2)
    assert _check(fresh, "evidence:freshness").status.value == "pass"
    stale = world.recheck("bot", entered + 20)
    freshness = _check(stale, "evidence:freshness")
    assert freshness.status.value == "warn" and "stalled" in freshness.reason


def test_single_sponsor_warns_and_missing_budget_per_policy(world: World) -> None:
    spec = "id: solo\ntitle: Solo\nowner: o@example.com\ndepartment: hr\nsponsors: [{name: A}]\n"
    add_monitored(world, "solo", spec=spec)
    world.advance("solo", Stage.EXPLORE)
    outcome = world.recheck("solo", 3)
    assert _check(outcome, "risk:sponsors").status.value == "warn"
    assert _check(outcome, "risk:budget").status.value == "warn"  # Explore: missing is a warning
    assert outcome.verdict == "warn"


def test_one_broken_use_case_does_not_stop_the_others(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_monitored(world, "good")
    add_monitored(world, "down")
    good = world.advance("good", Stage.PRODUCTION)
    world.advance("down", Stage.PRODUCTION, start_day=1)
    now = world.at(good + 12)
    world.write_monitoring("good", now, daily_cost=500)
    world.write_monitoring("down", now, daily_cost=500)
    # The "down" use case's monitoring moves to an S3 endpoint nobody answers on.
    spec = world.root / "usecases" / "down.yaml"
    spec.write_text(
        spec.read_text().replace(
            "monitoring: data/down-monitoring.csv", "monitoring: s3://no-such-bucket/m.csv"
        )
    )
    world.session = type(world.session).open(world.root)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    outcomes = [
        recheck_usecase(world.session, uc, now, notify=False) for uc in targets(world.session)
    ]
    by_id = {o.usecase: o for o in outcomes}
    assert by_id["down"].verdict == "error" and by_id["down"].entry is not None
    assert by_id["good"].verdict == "ok"
    assert "unreachable" in _check(by_id["down"], "health:availability").reason


def test_stopped_and_unregistered_use_cases_are_skipped(world: World) -> None:

    add_monitored(world, "gone")
    add_monitored(world, "new")
    world.advance("gone", Stage.POC)
    world.decide("gone", "no-go", 20, reason="not feasible")
    for uc in ("gone", "new"):
        outcome = recheck_usecase(world.session, uc, world.at(21), notify=False)
        assert outcome.verdict == "skipped" and outcome.entry is None
