"""Re-checks end to end: alerts to a real webhook receiver, recorded in the entry; the CLI."""

from __future__ import annotations

import json

import pytest

from gates.recheck.run import recheck_usecase
from gates.stages import Stage
from tests.alerts.conftest import Receiver, receiver  # noqa: F401  (fixture)
from tests.cli.test_cli import run
from tests.recheck.conftest import RecheckWorld


def _with_webhook(rworld: RecheckWorld, url: str) -> None:
    settings = rworld.root / "stagegate.toml"
    settings.write_text(settings.read_text() + f'\n[alerts]\nwebhook_url = "{url}"\n')
    rworld.session = type(rworld.session).open(rworld.root)


def test_failed_recheck_alerts_once_and_records_it(
    rworld: RecheckWorld,
    receiver: Receiver,  # noqa: F811
) -> None:
    rworld.add("svc")
    day = rworld.advance("svc", Stage.PRODUCTION)
    _with_webhook(rworld, receiver.url)
    now = rworld.at(day + 12)
    rworld.monitoring("svc", now, availability=0.9985, daily_cost=500)

    first = recheck_usecase(rworld.session, "svc", now)
    assert first.verdict == "fail" and first.alert == "sent", first.alert_detail
    assert len(receiver.requests) == 1
    body = receiver.requests[0].json()
    assert "svc" in body["text"] and "health:availability" in json.dumps(body["blocks"])
    assert first.entry is not None and first.entry in json.dumps(body)

    second = recheck_usecase(rworld.session, "svc", rworld.at(day + 13))
    assert second.alert == "unchanged" and len(receiver.requests) == 1
    entry = rworld.session.ledger.state("svc").history[-1]
    assert entry.predicate.recheck is not None and entry.predicate.recheck.alert is not None
    assert entry.predicate.recheck.alert.status == "unchanged"

    rworld.monitoring("svc", rworld.at(day + 14), quality=0.8, daily_cost=500)
    third = recheck_usecase(rworld.session, "svc", rworld.at(day + 14))
    assert third.alert == "sent" and len(receiver.requests) == 2  # a new failure is news


def test_blocked_promotion_alerts_once_per_distinct_failure(
    rworld: RecheckWorld,
    receiver: Receiver,  # noqa: F811
) -> None:
    from gates.engine.actions import promote, register

    spec = (
        "id: bot\ntitle: Bot\nowner: o@example.com\ndepartment: support\n"
        "sponsors: [{name: A}, {name: B}]\ncriteria: {explore: {approvals: {sponsor: 1}}}\n"
    )
    rworld.add("bot", spec=spec)
    _with_webhook(rworld, receiver.url)
    register(rworld.session, "bot", now=rworld.at(0))
    first = promote(rworld.session, "bot", Stage.POC, now=rworld.at(5))
    assert not first.promoted
    assert first.alert is not None and first.alert.status == "sent"
    body = receiver.requests[0].json()
    assert "approval:sponsor" in json.dumps(body) and first.entry.key in json.dumps(body)
    again = promote(rworld.session, "bot", Stage.POC, now=rworld.at(6))
    assert again.alert is not None and again.alert.status == "unchanged"
    assert len(receiver.requests) == 1


def test_cli_recheck_json_and_exit_codes(rworld: RecheckWorld) -> None:
    rworld.add("svc")
    rworld.add("bot")
    day = rworld.advance("svc", Stage.PRODUCTION)
    entered = rworld.advance("bot", Stage.POC, start_day=1)
    now = rworld.at(max(day + 12, entered + 43))
    rworld.monitoring("svc", now, daily_cost=500)
    ws = ["--workspace", str(rworld.root)]

    ok = run(*ws, "recheck", "svc", "--in-process", "--json", "--at", now.isoformat())
    assert ok.returncode == 0, ok.stderr
    (svc,) = json.loads(ok.stdout)
    assert svc["useCase"] == "svc" and svc["verdict"] == "ok" and svc["sequence"] == 4

    overdue = run(*ws, "recheck", "--all", "--in-process", "--json", "--at", now.isoformat())
    assert overdue.returncode == 1, overdue.stderr
    assert {o["useCase"]: o["verdict"] for o in json.loads(overdue.stdout)}["bot"] == "fail"

    unknown = run(*ws, "recheck", "nope", "--in-process")
    assert unknown.returncode == 2 and "no use case 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    neither = run(*ws, "recheck", "--in-process")
    assert neither.returncode == 2 and "USECASE or pass --all" in neither.stderr


@pytest.mark.parametrize("broken", ["health: {availability_min: 2}", "health: {nonsense: 1}"])
def test_bad_recheck_override_keeps_the_gate_into_production_closed_naming_the_field(
    rworld: RecheckWorld, broken: str
) -> None:
    """Production's re-check thresholds are locked when it starts: unreadable ones stop the gate."""
    from gates.engine.actions import promote
    from tests.recheck.conftest import SPEC

    rworld.add(
        "svc",
        spec=SPEC.replace(
            "    health: {{quality: {{target: 0.9}}}}",
            "    " + broken.replace("{", "{{").replace("}", "}}"),
        ),
    )
    day = rworld.advance("svc", Stage.PILOT)
    outcome = promote(rworld.session, "svc", Stage.PRODUCTION, now=rworld.at(day + 10))
    assert not outcome.promoted
    assert rworld.session.ledger.state("svc").stage is Stage.PILOT
    reasons = [r.reason for r in outcome.evaluation.failing]
    assert any("recheck.production.health" in r for r in reasons), reasons


def test_validate_reports_bad_recheck_overrides_and_monitoring_before_the_night(
    rworld: RecheckWorld,
) -> None:
    from gates.workspace.loader import load_workspace
    from gates.workspace.validation import validate_workspace
    from tests.recheck.conftest import SPEC

    broken = SPEC.replace("{{target: 0.9}}", "{{target: 0.9, max_drop: 3}}").replace(
        "dataset: monitoring", "dataset: nowhere"
    )
    rworld.add("svc", spec=broken)
    problems = validate_workspace(load_workspace(rworld.root))
    assert any("recheck.production.health.quality.max_drop" in p for p in problems), problems
    assert any("evidence.monitoring.dataset: names 'nowhere'" in p for p in problems), problems
