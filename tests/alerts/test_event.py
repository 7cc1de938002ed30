"""Alert data: built from check results or signed records, recorded as an AlertRecord."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gates.alerts
from gates.alerts import AlertOutcome, FailingCheck, failing_checks
from gates.ledger.statement import AlertRecord, CheckRecord
from gates.results import CheckResult, Status


def test_failing_checks_keep_errors_failures_and_warnings_only() -> None:
    results = [
        CheckResult("a", "slo", Status.PASS, "fine"),
        CheckResult("b", "slo", Status.FAIL, "too slow", observed=1200, expected="<= 1000"),
        CheckResult("c", "cost", Status.WARN, "80% of budget"),
        CheckResult("d", "slo", Status.SKIPPED, "no data source"),
        CheckResult("e", "slo", Status.ERROR, "source down"),
    ]
    assert failing_checks(results) == (
        FailingCheck("b", "fail", "too slow", 1200, "<= 1000"),
        FailingCheck("c", "warn", "80% of budget"),
        FailingCheck("e", "error", "source down"),
    )
    records = [CheckRecord.model_validate(r.to_json()) for r in results]
    assert failing_checks(records) == failing_checks(results)


@pytest.mark.parametrize("status", ["sent", "unchanged", "failed", "disabled", "none"])
def test_every_outcome_is_a_valid_ledger_alert_record(status: str) -> None:
    outcome = AlertOutcome(status, "detail")  # type: ignore[arg-type]
    assert AlertRecord.model_validate(outcome.to_record()) == AlertRecord(
        status=status,
        detail="detail",
    )


def test_every_exported_name_resolves() -> None:
    for name in gates.alerts.__all__:
        assert getattr(gates.alerts, name) is not None, name


def test_importing_alerts_loads_no_heavy_library() -> None:
    probe = (
        "import sys, gates.alerts; print(sorted(m for m in "
        "('prefect', 'mlflow', 'great_expectations', 'pandas', 'boto3', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
