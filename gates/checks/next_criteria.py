"""The next stage's exit criteria are defined before it starts (e.g. the PoC quality bar)."""

from __future__ import annotations

from gates.checks.interface import CheckContext
from gates.errors import ConfigError
from gates.policy.effective import criteria_digest
from gates.results import CheckResult, Evidence, Status
from gates.stages import Stage

KIND = "next-criteria"


def run(ctx: CheckContext) -> list[CheckResult]:
    target = Stage(ctx.criteria.to_stage)
    if target in (Stage.SCALE, Stage.STOPPED):
        return []
    name = f"criteria:{target.value}"
    expected = f"{target.label} exit criteria complete before {target.label} starts"
    try:
        criteria = ctx.workspace.criteria(ctx.usecase, target)
    except ConfigError as e:
        return [CheckResult(name, KIND, Status.FAIL, "; ".join(e.problems), "incomplete", expected)]
    digest = criteria_digest(criteria)
    evidence = (
        Evidence(kind="criteria", uri=f"criteria:{ctx.usecase.id}/{target.value}", digest=digest),
    )
    return [
        CheckResult(
            name,
            KIND,
            Status.PASS,
            f"{target.label} criteria will be locked on entry",
            digest[:19],
            expected,
            evidence,
        )
    ]
