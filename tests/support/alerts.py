"""Alert events as the re-check and the gate raise them, for the alert tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from gates.alerts import AlertEvent, FailingCheck
from gates.ledger.entry import entry_key

NOW = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)


def fail(check: str, status: str = "fail", **kw: Any) -> FailingCheck:
    return FailingCheck(check, status, kw.pop("reason", f"{check} is {status}"), **kw)


def make_event(**changes: Any) -> AlertEvent:
    """A failed nightly re-check of alpha in Production; ``changes`` replace fields."""
    base = AlertEvent(
        kind="recheck",
        usecase="alpha",
        title="Alpha assistant",
        stage="production",
        verdict="fail",
        target=None,
        checks=(
            fail("slo:availability", observed=0.995, expected=">= 0.999"),
            fail("cost:monthly", "warn", observed=850.0, expected="< 80% of 1000"),
        ),
        entry_key=entry_key("alpha", 7),
        sequence=7,
        time=NOW,
    )
    return replace(base, **changes)
