"""Re-checks of PoC, Pilot and any stage: time box, criteria lock, freshness, isolation."""

from __future__ import annotations

import pytest

from gates.recheck.run import recheck_usecase, targets
from gates.stages import Stage
from tests.recheck.conftest import RecheckWorld


def _check(outcome, name):  # type: ignore[no-untyped-def]
    return next(r for r in outcome.results if r.check == name)


def test_poc_in_its_seventh_week_is_go_no_go_overdue(rworld: RecheckWorld) -> None:
    rworld.add("bot")
    entered = rworld.advance("bot", Stage.POC)
    outcome = recheck_usecase(rworld.session, "bot", rworld.at(entered + 43), notify=False)
    box = _check(outcome, "time-box")
    assert box.status.value == "fail" and "Go/No-Go decision overdue" in box.reason
    assert outcome.verdict == "fail"
    assert not outcome.health_failed  # not a production health failure


def test_poc_in_its_fifth_week_warns_past_planned(rworld: RecheckWorld) -> None:
    rworld.add("bot")
    entered = rworld.advance("bot", Stage.POC)
    outcome = recheck_usecase(rworld.session, "bot", rworld.at(entered + 30), notify=False)
    assert _check(outcome, "time-box").status.value == "warn"


def test_pilot_past_90_days_fails(rworld: RecheckWorld) -> None:
    rworld.add("bot")
    entered = rworld.advance("bot", Stage.PILOT)
    assert (
        _check(
            recheck_usecase(rworld.session, "bot", rworld.at(entered + 91), notify=False),
            "time-box",
        ).status.value
        == "fail"
    )


def test_criteria_changed_without_amendment_fails(rworld: RecheckWorld) -> None:
    rworld.add("bot")
    entered = rworld.advance("bot", Stage.POC)
    policy = rworld.root / "policy.yaml"
    policy.write_text(policy.read_text().replace("max_days: 42", "max_days: 60"))
    rworld.session = type(rworld.session).open(rworld.root)
    outcome = recheck_usecase(rworld.session, "bot", rworld.at(entered + 3), notify=False)
    changed = _check(outcome, "criteria:unchanged")
    assert changed.status.value == "fail" and "amend" in changed.reason


def test_stale_poc_evidence_warns(rworld: RecheckWorld) -> None:
    spec = (
        "id: bot\ntitle: Bot\nowner: o@example.com\ndepartment: support\n"
        "sponsors: [{name: A}, {name: B}]\nbudgets: {poc: 100, pilot: 100}\n"
        "criteria:\n  poc:\n    datasets: [{dataset: test_set, suite: poc_test_set}]\n"
        "evidence:\n  datasets: {test_set: data/test.csv}\n"
    )
    rworld.add("bot", spec=spec)
    data = rworld.root / "data" / "test.csv"
    data.write_text("id,input,expected,timestamp\n1,a,b,2026-06-05T00:00:00Z\n")
    entered = rworld.advance("bot", Stage.POC)
    fresh = recheck_usecase(rworld.session, "bot", rworld.at(entered + 2), notify=False)
    assert _check(fresh, "evidence:freshness").status.value == "pass"
    stale = recheck_usecase(rworld.session, "bot", rworld.at(entered + 20), notify=False)
    freshness = _check(stale, "evidence:freshness")
    assert freshness.status.value == "warn" and "stalled" in freshness.reason


def test_single_sponsor_warns_and_missing_budget_per_policy(rworld: RecheckWorld) -> None:
    spec = "id: solo\ntitle: Solo\nowner: o@example.com\ndepartment: hr\nsponsors: [{name: A}]\n"
    rworld.add("solo", spec=spec)
    rworld.advance("solo", Stage.EXPLORE)
    outcome = recheck_usecase(rworld.session, "solo", rworld.at(3), notify=False)
    assert _check(outcome, "risk:sponsors").status.value == "warn"
    assert _check(outcome, "risk:budget").status.value == "warn"  # Explore: missing is a warning
    assert outcome.verdict == "warn"


def test_one_broken_use_case_does_not_stop_the_others(
    rworld: RecheckWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    rworld.add("good")
    rworld.add("down")
    good = rworld.advance("good", Stage.PRODUCTION)
    rworld.advance("down", Stage.PRODUCTION, start_day=1)
    now = rworld.at(good + 12)
    rworld.monitoring("good", now, daily_cost=500)
    rworld.monitoring("down", now, daily_cost=500)
    # The "down" use case's monitoring moves to an S3 endpoint nobody answers on.
    spec = rworld.root / "usecases" / "down.yaml"
    spec.write_text(
        spec.read_text().replace(
            "monitoring: data/down-monitoring.csv", "monitoring: s3://no-such-bucket/m.csv"
        )
    )
    rworld.session = type(rworld.session).open(rworld.root)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    outcomes = [
        recheck_usecase(rworld.session, uc, now, notify=False) for uc in targets(rworld.session)
    ]
    by_id = {o.usecase: o for o in outcomes}
    assert by_id["down"].verdict == "error" and by_id["down"].entry is not None
    assert by_id["good"].verdict == "ok"
    assert "unreachable" in _check(by_id["down"], "health:availability").reason


def test_stopped_and_unregistered_use_cases_are_skipped(rworld: RecheckWorld) -> None:
    rworld.add("gone")
    rworld.add("new")
    rworld.advance("gone", Stage.POC)
    rworld.no_go("gone", day=20, reason="not feasible")
    for uc in ("gone", "new"):
        outcome = recheck_usecase(rworld.session, uc, rworld.at(21), notify=False)
        assert outcome.verdict == "skipped" and outcome.entry is None
