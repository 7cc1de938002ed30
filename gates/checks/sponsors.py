"""Sponsors and budgets: an executive sponsor is secured and the next stage is budgeted."""

from __future__ import annotations

from gates.checks.interface import CheckContext
from gates.results import CheckResult, Evidence, Status

KIND = "sponsorship"


def run(ctx: CheckContext) -> list[CheckResult]:
    results: list[CheckResult] = []
    crit = ctx.criteria.sponsors
    spec_evidence = (
        Evidence(
            kind="use-case-spec", uri=str(ctx.workspace.sources.get(ctx.usecase.id, ctx.usecase.id))
        ),
    )
    if crit is not None:
        count = len(ctx.usecase.sponsors)
        names = ", ".join(s.name for s in ctx.usecase.sponsors) or "none"
        expected = f"≥ {crit.minimum} sponsor(s); ≥ {crit.warn_below} to survive a sponsor leaving"
        if count < crit.minimum:
            status, reason = Status.FAIL, "no executive sponsor secured"
        elif count < crit.warn_below:
            status, reason = Status.WARN, "single sponsor: the use case stalls if they leave"
        else:
            status, reason = Status.PASS, "sponsors secured"
        results.append(
            CheckResult(
                "sponsors", KIND, status, reason, f"{count} ({names})", expected, spec_evidence
            )
        )
    for stage in ctx.criteria.budget_required_for:
        budget = ctx.criteria.budget_for(stage)
        if budget is None or budget <= 0:
            results.append(
                CheckResult(
                    f"budget:{stage}",
                    KIND,
                    Status.FAIL,
                    f"no budget set for {stage} (budgets.{stage})",
                    None,
                    f"a {stage} budget",
                    spec_evidence,
                )
            )
        else:
            results.append(
                CheckResult(
                    f"budget:{stage}",
                    KIND,
                    Status.PASS,
                    f"{stage} budget set",
                    f"{budget:,.0f} {ctx.criteria.currency}/month",
                    f"a {stage} budget",
                    spec_evidence,
                )
            )
    return results
