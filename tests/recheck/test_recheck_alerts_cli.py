"""Re-checks end to end: alerts to a real webhook receiver, recorded in the entry; the CLI."""

from __future__ import annotations

import json

import pytest

from gates.recheck.run import recheck_usecase
from gates.stages import Stage
from tests.support.cli import run
from tests.support.presets import PRODUCTION_SPEC, add_monitored
from tests.support.webhook import Receiver
from tests.support.world import World


def _with_webhook(world: World, url: str) -> None:
    world.append_settings(f'[alerts]\nwebhook_url = "{url}"\n')


def test_failed_recheck_alerts_once_and_records_it(
    world: World,
    receiver: Receiver,
) -> None:
    add_monitored(world, "svc")
    day = world.advance("svc", Stage.PRODUCTION)
    _with_webhook(world, receiver.url)
    now = world.at(day + 12)
    world.write_monitoring("svc", now, availability=0.9985, daily_cost=500)

    first = recheck_usecase(world.session, "svc", now)
    assert first.verdict == "fail" and first.alert == "sent", first.alert_detail
    assert len(receiver.requests) == 1
    body = receiver.requests[0].json()
    assert "svc" in body["text"] and "health:availability" in json.dumps(body["blocks"])
    assert first.entry is not None and first.entry in json.dumps(body)

    second = recheck_usecase(world.session, "svc", world.at(day + 13))
    assert second.alert == "unchanged" and len(receiver.requests) == 1
    entry = world.session.ledger.state("svc").history[-1]
    assert entry.predicate.recheck is not None and entry.predicate.recheck.alert is not None
    assert entry.predicate.recheck.alert.status == "unchanged"

    world.write_monitoring("svc", world.at(day + 14), quality=0.8, daily_cost=500)
    third = recheck_usecase(world.session, "svc", world.at(day + 14))
    assert third.alert == "sent" and len(receiver.requests) == 2  # a new failure is news


def test_blocked_promotion_alerts_once_per_distinct_failure(
    world: World,
    receiver: Receiver,
) -> None:

    spec = (
        "id: bot\ntitle: Bot\nowner: o@example.com\ndepartment: support\n"
        "sponsors: [{name: A}, {name: B}]\ncriteria: {explore: {approvals: {sponsor: 1}}}\n"
    )
    add_monitored(world, "bot", spec=spec)
    _with_webhook(world, receiver.url)
    world.register("bot", 0)
    first = world.promote("bot", Stage.POC, 5)
    assert not first.promoted
    assert first.alert is not None and first.alert.status == "sent"
    body = receiver.requests[0].json()
    assert "approval:sponsor" in json.dumps(body) and first.entry.key in json.dumps(body)
    again = world.promote("bot", Stage.POC, 6)
    assert again.alert is not None and again.alert.status == "unchanged"
    assert len(receiver.requests) == 1


def test_cli_recheck_json_and_exit_codes(world: World) -> None:
    add_monitored(world, "svc")
    add_monitored(world, "bot")
    day = world.advance("svc", Stage.PRODUCTION)
    entered = world.advance("bot", Stage.POC, start_day=1)
    now = world.at(max(day + 12, entered + 43))
    world.write_monitoring("svc", now, daily_cost=500)
    ws = ["--workspace", str(world.root)]

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
    world: World, broken: str
) -> None:
    """Production's re-check thresholds are locked when it starts: unreadable ones stop the gate."""

    add_monitored(
        world,
        "svc",
        spec=PRODUCTION_SPEC.replace(
            "    health: {{quality: {{target: 0.9}}}}",
            "    " + broken.replace("{", "{{").replace("}", "}}"),
        ),
    )
    day = world.advance("svc", Stage.PILOT)
    outcome = world.promote("svc", Stage.PRODUCTION, day + 10)
    assert not outcome.promoted
    assert world.session.ledger.state("svc").stage is Stage.PILOT
    reasons = [r.reason for r in outcome.evaluation.failing]
    assert any("recheck.production.health" in r for r in reasons), reasons


def test_validate_reports_bad_recheck_overrides_and_monitoring_before_the_night(
    world: World,
) -> None:
    from gates.workspace.loader import load_workspace
    from gates.workspace.validation import validate_workspace

    broken = PRODUCTION_SPEC.replace("{{target: 0.9}}", "{{target: 0.9, max_drop: 3}}").replace(
        "dataset: monitoring", "dataset: nowhere"
    )
    add_monitored(world, "svc", spec=broken)
    problems = validate_workspace(load_workspace(world.root))
    assert any("recheck.production.health.quality.max_drop" in p for p in problems), problems
    assert any("evidence.monitoring.dataset: names 'nowhere'" in p for p in problems), problems
