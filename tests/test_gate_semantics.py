"""Fail closed: an empty gate, an error or a crashing check never adds up to a pass."""

from __future__ import annotations

import sys
import types

import pytest

from gates.engine.gate import GatePlan, run_check
from gates.results import CheckResult, Status, Verdict, verdict_of


def result(status: Status) -> CheckResult:
    return CheckResult("c", "k", status, "r")


def test_an_empty_gate_is_an_error_not_a_pass() -> None:
    assert verdict_of([]) is Verdict.ERROR


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        ([Status.PASS, Status.WARN, Status.SKIPPED], Verdict.PASS),
        ([Status.PASS, Status.FAIL], Verdict.BLOCKED),
        ([Status.PASS, Status.FAIL, Status.ERROR], Verdict.ERROR),
        ([Status.ERROR], Verdict.ERROR),
    ],
)
def test_verdict_is_the_worst_status(statuses: list[Status], verdict: Verdict) -> None:
    assert verdict_of([result(s) for s in statuses]) is verdict


def test_a_crashing_check_becomes_an_error_result(monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = types.ModuleType("gates.checks.crashing")

    def run(ctx: object) -> list[CheckResult]:
        raise ZeroDivisionError("division by zero in a check")

    crashing.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gates.checks.crashing", crashing)
    plan = GatePlan.__new__(GatePlan)
    object.__setattr__(plan, "context", None)
    results = run_check(plan, "crashing")
    assert [r.status for r in results] == [Status.ERROR]
    assert "ZeroDivisionError" in results[0].reason
