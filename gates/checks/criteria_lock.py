"""Criteria lock: the gate is evaluated under the criteria locked when the stage started."""

from __future__ import annotations

from gates.checks.interface import CheckContext
from gates.results import CheckResult, Evidence, Status

KIND = "criteria-lock"


def run(ctx: CheckContext) -> list[CheckResult]:
    locked = ctx.view.locked_digest
    evidence = (
        Evidence(kind="criteria", uri=f"ledger:{ctx.usecase.id}", digest=ctx.criteria_digest),
    )
    if locked is None:
        return [
            CheckResult(
                "criteria-lock",
                KIND,
                Status.ERROR,
                "no locked criteria for this stage in the ledger",
                ctx.criteria_digest,
                "criteria locked when the stage started",
                evidence,
            )
        ]
    if locked != ctx.criteria_digest:
        return [
            CheckResult(
                "criteria-lock",
                KIND,
                Status.FAIL,
                "exit criteria changed since the stage started; a signed, approved amendment is required",
                ctx.criteria_digest[:19],
                f"{locked[:19]} (locked)",
                evidence,
            )
        ]
    return [
        CheckResult(
            "criteria-lock",
            KIND,
            Status.PASS,
            "criteria unchanged since the stage started",
            ctx.criteria_digest[:19],
            f"{locked[:19]} (locked)",
            evidence,
        )
    ]
