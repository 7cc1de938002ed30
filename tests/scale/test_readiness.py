"""The Production → Scale gate's `scale-readiness` check on small ledgers built for each case."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gates.canonical import digest_of
from gates.checks.registry import DEFAULT_CHECKS
from gates.engine.gate import plan_gate, run_check
from gates.ledger.entry import entry_key
from gates.policy import effective_criteria
from gates.results import CheckResult, Status
from gates.stages import Stage
from gates.workspace.session import Session
from tests.scale.ledger_plan import UseCasePlan, plan_world, straight, utc, write_ledger

#: Mid-October 2026: the last complete quarter is 2026Q3.
NOW = utc("2026-10-15T12:00")


def ledger_of(tmp_path: Path, plans: list[UseCasePlan]) -> Session:
    root = tmp_path / "ws"
    world = plan_world(root, plans)
    return write_ledger(world, plans)


def readiness(session: Session, usecase: str, **scale: Any) -> dict[str, CheckResult]:
    """Run the check the way the gate runs it, optionally under overridden Scale criteria."""
    state = session.ledger.state(usecase)
    plan = plan_gate(session.workspace, state, usecase, Stage.SCALE, NOW)
    assert "scale_readiness" in plan.kinds
    if scale:
        criteria = effective_criteria(Stage.PRODUCTION, {"scale": scale})
        plan = replace(plan, context=replace(plan.context, criteria=criteria))
    return {r.check: r for r in run_check(plan, DEFAULT_CHECKS["scale_readiness"])}


def statuses(results: dict[str, CheckResult]) -> dict[str, Status]:
    return {check: r.status for check, r in results.items()}


GROWING = [
    straight("a", "support", "2026-01-10T09:00", "2026-04-20T09:00"),  # 2026Q2, 100 days
    straight("b", "finance", "2026-05-01T09:00", "2026-07-20T09:00"),  # 2026Q3, 80 days
    straight("c", "sales", "2026-05-10T09:00", "2026-08-10T09:00"),  # 2026Q3, 92 days
]


def test_a_growing_quarter_passes_every_scale_goal(tmp_path: Path) -> None:
    session = ledger_of(tmp_path, GROWING)
    results = readiness(session, "a")
    assert statuses(results) == {
        "scale:production-per-quarter": Status.PASS,
        "scale:department-share": Status.PASS,
        "scale:adoption-time": Status.PASS,
    }
    produced = results["scale:production-per-quarter"]
    assert produced.observed == "2 in 2026Q3" and "b, c" in produced.reason
    assert "33% → 100%" in results["scale:department-share"].reason
    assert "100 days → 86 days" in results["scale:adoption-time"].reason
    (evidence,) = produced.evidence
    assert evidence.kind == "scale-review" and evidence.digest == digest_of(evidence.details)
    heads = evidence.details["heads"]
    assert set(heads) == {"a", "b", "c"}
    assert heads["c"] == session.ledger.state("c").head_digest


def test_fewer_than_two_new_production_use_cases_fails(tmp_path: Path) -> None:
    session = ledger_of(tmp_path, GROWING[:2])
    results = readiness(session, "a")
    produced = results["scale:production-per-quarter"]
    assert produced.status is Status.FAIL
    assert produced.observed == "1 in 2026Q3" and "goal is 2 per quarter" in produced.reason
    # The goal is data: a workspace may ask for one.
    relaxed = readiness(session, "a", production_per_quarter_min=1)
    assert relaxed["scale:production-per-quarter"].status is Status.PASS


SHRINKING = [
    straight("a", "support", "2026-01-10T09:00", "2026-04-20T09:00"),  # 2026Q2
    straight("b", "finance", "2026-01-20T09:00", "2026-05-20T09:00"),  # 2026Q2
    straight("c", "legal", "2026-07-05T09:00", None),  # joins in 2026Q3, still exploring
    straight("d", "hr", "2026-07-06T09:00", None),
    straight("e", "support", "2026-05-01T09:00", "2026-07-25T09:00"),  # 2026Q3
    straight("f", "finance", "2026-05-02T09:00", "2026-08-01T09:00"),  # 2026Q3
]


def test_a_falling_department_share_fails_unless_allowed(tmp_path: Path) -> None:
    session = ledger_of(tmp_path, SHRINKING)
    results = readiness(session, "a")
    share = results["scale:department-share"]
    assert share.status is Status.FAIL
    assert "fell to 50% from 100%" in share.reason
    assert results["scale:production-per-quarter"].status is Status.PASS
    allowed = readiness(session, "a", department_share_may_fall=True)
    assert allowed["scale:department-share"].status is Status.WARN


SLOWING = [
    straight("a", "support", "2026-03-01T09:00", "2026-04-20T09:00"),  # 2026Q2, 50 days
    straight("b", "finance", "2026-03-05T09:00", "2026-04-30T09:00"),  # 2026Q2, 56 days
    straight("c", "support", "2026-04-01T09:00", "2026-07-20T09:00"),  # 2026Q3, 110 days
    straight("d", "finance", "2026-04-02T09:00", "2026-07-31T09:00"),  # 2026Q3, 120 days
]


def test_slower_adoption_warns_by_default_and_fails_when_configured(tmp_path: Path) -> None:
    session = ledger_of(tmp_path, SLOWING)
    results = readiness(session, "a")
    assert statuses(results) == {
        "scale:production-per-quarter": Status.PASS,
        "scale:department-share": Status.PASS,
        "scale:adoption-time": Status.WARN,
    }
    assert "rose to 115 days from 53 days" in results["scale:adoption-time"].reason
    strict = readiness(session, "a", adoption_time_rising="fail")
    assert strict["scale:adoption-time"].status is Status.FAIL
    ignored = readiness(session, "a", adoption_time_rising="ignore")
    assert ignored["scale:adoption-time"].status is Status.SKIPPED


def test_without_an_earlier_quarter_the_trends_are_skipped_with_a_reason(tmp_path: Path) -> None:
    first = [
        straight("a", "support", "2026-07-01T09:00", "2026-08-20T09:00"),
        straight("b", "finance", "2026-07-02T09:00", "2026-09-01T09:00"),
    ]
    results = readiness(ledger_of(tmp_path, first), "a")
    assert results["scale:production-per-quarter"].status is Status.PASS
    assert results["scale:department-share"].status is Status.SKIPPED
    assert "no earlier quarter" in results["scale:department-share"].reason
    assert results["scale:adoption-time"].status is Status.SKIPPED


def test_a_ledger_that_fails_verification_is_an_error_never_a_pass(tmp_path: Path) -> None:
    session = ledger_of(tmp_path, GROWING)
    path = session.workspace.root / "ledger" / entry_key("b", 1)
    path.write_bytes(path.read_bytes().replace(b'"sig":"', b'"sig":"AAAA', 1))
    results = readiness(Session.open(session.workspace.root), "a")
    (only,) = results.values()
    assert only.status is Status.ERROR
    assert "'b'" in only.reason and "fails verification" in only.reason


def test_the_check_belongs_to_the_production_gate_only() -> None:
    overrides: dict[Stage, dict[str, Any]] = {
        Stage.POC: {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.8}]}
    }
    applies = {
        stage: DEFAULT_CHECKS["scale_readiness"].applies(
            effective_criteria(stage, overrides.get(stage))
        )
        for stage in (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION)
    }
    assert applies == {
        Stage.EXPLORE: False,
        Stage.POC: False,
        Stage.PILOT: False,
        Stage.PRODUCTION: True,
    }


def test_the_quarter_judged_is_the_last_complete_one_before_the_gate() -> None:
    from gates.scale.quarters import Quarter

    assert Quarter.of(NOW).previous().label == "2026Q3"
    assert Quarter.of(datetime.fromisoformat("2026-01-01T00:00:00+00:00")).previous().label == (
        "2025Q4"
    )


@pytest.mark.parametrize("text", ["2026Q4", "2026q4", " 2026Q4 "])
def test_quarters_parse_in_either_case(text: str) -> None:
    from gates.scale.quarters import Quarter

    q = Quarter.parse(text)
    assert (q.label, q.start.isoformat(), q.last_day.isoformat()) == (
        "2026Q4",
        "2026-10-01T00:00:00+00:00",
        "2026-12-31",
    )
