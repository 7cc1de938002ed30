"""Fail closed: an empty gate, an error or a crashing check never adds up to a pass."""

from __future__ import annotations

import pytest

from gates.checks.interface import Check
from gates.engine.gate import GatePlan, check_results, run_check
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


def test_a_crashing_check_becomes_an_error_result() -> None:
    def run(ctx: object) -> list[CheckResult]:
        raise ZeroDivisionError("division by zero in a check")

    plan = GatePlan.__new__(GatePlan)
    object.__setattr__(plan, "context", None)
    results = run_check(plan, Check("crashing", run))
    assert [(r.check, r.kind, r.status) for r in results] == [
        ("crashing", "crashing", Status.ERROR)
    ]
    assert "ZeroDivisionError" in results[0].reason


@pytest.mark.parametrize("returned", [None, "pass", [CheckResult("c", "k", Status.PASS, "r"), 1]])
def test_a_check_that_returns_no_list_of_results_is_an_error(returned: object) -> None:
    def run(ctx: object) -> object:
        return returned

    plan = GatePlan.__new__(GatePlan)
    object.__setattr__(plan, "context", None)
    results = run_check(plan, Check("odd", run))  # type: ignore[arg-type]
    assert [(r.check, r.status) for r in results] == [("odd", Status.ERROR)]
    assert results[0].reason == f"check returned {type(returned).__name__}, not a list of results"
    assert check_results("odd", returned) == results
