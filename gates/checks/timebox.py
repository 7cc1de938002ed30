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
    details: dict[str, object] = {
        "enteredAt": ctx.view.entered_at.isoformat() if ctx.view.entered_at else None,
        "now": ctx.now.isoformat(),
    }
    if ctx.view.extended_by is not None:
        expected += f" (extended by amendment #{ctx.view.extended_by})"
        details["extendedBy"] = ctx.view.extended_by
    evidence = (Evidence(kind="ledger", uri=f"ledger:{ctx.usecase.id}", details=details),)
    observed = f"{days:.0f} days in {ctx.stage.label}"
    if box.max_days is not None and days > box.max_days:
        # The playbook's answer to the eternal PoC is a hard deadline: past it the gate
        # blocks. What remains is the decision itself: a No-Go, or a sponsor-approved
        # extension (an amendment of time_box.max_days) and then the gate again.
        status, reason = (
            Status.FAIL,
            f"past the hard maximum of {box.max_days} days: Go/No-Go decision overdue; "
            "the gate stays closed unless a sponsor-approved extension raises the maximum "
            "(`stagegate amend` after changing criteria."
            f"{ctx.stage.value}.time_box.max_days) or a No-Go is recorded",
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
