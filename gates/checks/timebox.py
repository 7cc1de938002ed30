"""Time box: days in stage (from the ledger) against the planned length and hard maximum."""

from __future__ import annotations

from gates.checks.interface import CheckContext
from gates.results import CheckResult, Evidence, Status

KIND = "time-box"


def days_in_stage(ctx: CheckContext) -> float | None:
    if ctx.view.entered_at is None:
        return None
    return (ctx.now - ctx.view.entered_at).total_seconds() / 86400


def run(ctx: CheckContext) -> list[CheckResult]:
    box = ctx.criteria.time_box
    if box.planned_days is None and box.max_days is None:
        return []
    days = days_in_stage(ctx)
    expected = _expected(box.planned_days, box.max_days)
    if days is None:
        return [
            CheckResult(
                "time-box",
                KIND,
                Status.ERROR,
                "stage start not found in the ledger",
                expected=expected,
            )
        ]
    evidence = (
        Evidence(
            kind="ledger",
            uri=f"ledger:{ctx.usecase.id}",
            details={
                "enteredAt": ctx.view.entered_at.isoformat() if ctx.view.entered_at else None,
                "now": ctx.now.isoformat(),
            },
        ),
    )
    observed = f"{days:.0f} days in {ctx.stage.label}"
    if box.max_days is not None and days > box.max_days:
        # The gate is the Go/No-Go decision that is overdue: it may still be taken, so the
        # gate warns instead of blocking; the nightly re-check is where this fails.
        status, reason = (
            Status.WARN,
            f"past the hard maximum of {box.max_days} days: Go/No-Go decision overdue",
        )
    elif box.planned_days is not None and days > box.planned_days:
        status, reason = Status.WARN, f"past the planned {box.planned_days} days"
    else:
        status, reason = Status.PASS, "within the time box"
    return [CheckResult("time-box", KIND, status, reason, observed, expected, evidence)]


def _expected(planned: int | None, maximum: int | None) -> str:
    parts = []
    if planned:
        parts.append(f"planned ≤ {planned} days")
    if maximum and maximum != planned:
        parts.append(f"hard max {maximum} days")
    return ", ".join(parts)
