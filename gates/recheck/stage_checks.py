"""Re-checks of any stage: time box, evidence freshness, criteria lock, sponsors, budget, risks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gates.checks import timebox
from gates.checks.interface import CheckContext
from gates.errors import EvidenceError, StagegateError
from gates.ledger.replay import ChainState
from gates.policy.recheck import RecheckPolicy
from gates.results import CheckResult, Evidence, Status

KIND = "stage-health"
#: Risks with a dedicated re-check of their own are not repeated from the register.
COVERED_RISKS = frozenset({"single-sponsor", "no-stage-budget"})


def time_box_result(ctx: CheckContext, policy: RecheckPolicy) -> list[CheckResult]:
    """The gate's time-box check, except that past the hard maximum the night fails."""
    if policy.time_box is None:
        return []
    results = []
    for result in timebox.run(ctx):
        overdue = "Go/No-Go decision overdue" in result.reason
        status = Status(policy.time_box.overdue) if overdue else result.status
        results.append(
            CheckResult(
                result.check,
                result.kind,
                status,
                result.reason,
                result.observed,
                result.expected,
                result.evidence,
            )
        )
    return results


def criteria_result(
    ctx: CheckContext, state: ChainState, spec_digest: str | StagegateError | None
) -> CheckResult:
    """Everything that judges the stage, as the spec says today, must still hash to the lock."""
    check = "criteria:unchanged"
    locked = state.lock.digest if state.lock else None
    expected = f"locked {locked}" if locked else "a criteria lock in the ledger"
    evidence = (
        Evidence(kind="ledger", uri=f"ledger:{ctx.usecase.id}", details={"locked": locked}),
    )
    if locked is None:
        return CheckResult(check, KIND, Status.ERROR, "no criteria lock for the current stage")
    if isinstance(spec_digest, StagegateError) or spec_digest is None:
        reason = spec_digest.message if spec_digest else "the spec's criteria cannot be read"
        return CheckResult(check, KIND, Status.ERROR, reason, None, expected, evidence)
    if spec_digest == locked:
        return CheckResult(
            check,
            KIND,
            Status.PASS,
            "criteria unchanged since the stage was entered",
            spec_digest,
            expected,
            evidence,
        )
    return CheckResult(
        check,
        KIND,
        Status.FAIL,
        "the spec's criteria, budgets or re-check thresholds for this stage changed since "
        "they were locked, without an approved amendment: tonight is judged by the locked "
        "ones and the next gate would fail (run `stagegate amend` with a sponsor's approval)",
        spec_digest,
        expected,
        evidence,
    )


def freshness_result(ctx: CheckContext, policy: RecheckPolicy) -> list[CheckResult]:
    """The newest evidence of the stage (MLflow run, dataset rows) is recent enough."""
    if policy.freshness is None:
        return []
    check = "evidence:freshness"
    limit = policy.freshness.max_age_days
    expected = f"newest evidence ≤ {limit:g} days old"
    stamps: list[tuple[datetime, str]] = []
    try:
        stamps += _dataset_times(ctx)
        stamps += _run_times(ctx)
    except EvidenceError as e:
        return [CheckResult(check, KIND, Status.ERROR, e.message, None, expected)]
    if not stamps:
        return [
            CheckResult(
                check,
                KIND,
                Status.WARN,
                f"no dated evidence declared for {ctx.stage.label} (datasets of its exit "
                f"criteria, evidence.metrics.{ctx.stage.value})",
                "none",
                expected,
            )
        ]
    newest, where = max(stamps)
    age = (ctx.now - newest).total_seconds() / 86400
    evidence = tuple(
        Evidence(kind="freshness", uri=uri, details={"newest": at.isoformat()})
        for at, uri in sorted(stamps, reverse=True)
    )
    status = Status.PASS if age <= limit else Status.WARN
    reason = f"newest evidence ({where}) is {age:.1f} days old" + (
        ""
        if status is Status.PASS
        else f": nothing new for over {limit:g} days, the stage may have stalled"
    )
    return [CheckResult(check, KIND, status, reason, f"{age:.1f} days", expected, evidence)]


def _dataset_times(ctx: CheckContext) -> list[tuple[datetime, str]]:
    import pandas as pd

    from gates.checks.expectations import load_once

    out = []
    for entry in ctx.criteria.datasets:
        declared = ctx.usecase.evidence.datasets.get(entry.dataset)
        if declared is None:
            continue
        location = ctx.workspace.evidence_path(declared)
        dataset = load_once(ctx, location)
        column = next((c for c in ("timestamp", "date") if c in dataset.frame.columns), None)
        if column is not None and len(dataset.frame):
            stamps = pd.to_datetime(dataset.frame[column], utc=True, errors="coerce").dropna()
            if len(stamps):
                out.append((stamps.max().to_pydatetime(), location))
                continue
        if "://" not in location:
            mtime = Path(location).stat().st_mtime
            out.append((datetime.fromtimestamp(mtime, UTC), location))
    return out


def _run_times(ctx: CheckContext) -> list[tuple[datetime, str]]:
    selector = ctx.usecase.evidence.metrics.get(ctx.stage.value)
    if selector is None or selector.model:
        return []
    from gates.evidence.mlflow_source import resolve_run_once

    run = resolve_run_once(
        ctx.memo,
        selector,
        ctx.workspace.tracking_uri,
        model_name=ctx.usecase.model.name if ctx.usecase.model else None,
    )
    if run.start_time_ms is None:
        return []
    return [(datetime.fromtimestamp(run.start_time_ms / 1000, UTC), f"runs:/{run.run_id}")]


def sponsors_result(ctx: CheckContext, policy: RecheckPolicy) -> list[CheckResult]:
    if policy.sponsors is None:
        return []
    count = len(ctx.usecase.sponsors)
    names = ", ".join(s.name for s in ctx.usecase.sponsors) or "none"
    expected = f"≥ {policy.sponsors.warn_below} sponsors"
    evidence = (Evidence(kind="use-case-spec", uri=_spec_uri(ctx)),)
    if count == 0:
        status, reason = Status.FAIL, "no sponsor: nobody owns the decision"
    elif count < policy.sponsors.warn_below:
        status, reason = Status.WARN, "single sponsor: the use case stalls if they leave"
    else:
        status, reason = Status.PASS, f"{count} sponsors"
    return [
        CheckResult("risk:sponsors", KIND, status, reason, f"{count} ({names})", expected, evidence)
    ]


def budget_result(ctx: CheckContext, policy: RecheckPolicy) -> list[CheckResult]:
    if policy.budget is None:
        return []
    budget = ctx.criteria.budget_for(ctx.stage.value)
    expected = f"a {ctx.stage.label} budget (budgets.{ctx.stage.value})"
    evidence = (Evidence(kind="use-case-spec", uri=_spec_uri(ctx)),)
    if budget is None or budget <= 0:
        status = Status(policy.budget.missing)
        reason = f"no budget for {ctx.stage.label}: spending is not bounded"
        return [CheckResult("risk:budget", KIND, status, reason, "none", expected, evidence)]
    observed = f"{budget:,.0f} {ctx.usecase.currency}/month"
    return [
        CheckResult("risk:budget", KIND, Status.PASS, "budget set", observed, expected, evidence)
    ]


def register_results(
    ctx: CheckContext, policy: RecheckPolicy, state: ChainState
) -> list[CheckResult]:
    """The playbook's other risks, from the risk register, as warnings."""
    if not policy.risks:
        return []
    from gates.risks.register import assess_risks

    try:
        risks = assess_risks(ctx.workspace, ctx.usecase, state, ctx.now)
    except StagegateError as e:
        return [CheckResult("risk:register", KIND, Status.ERROR, f"risk register: {e.message}")]
    return [
        CheckResult(
            f"risk:{risk.id}",
            KIND,
            Status.WARN,
            f"{risk.title}: {risk.detail}",
            risk.detail,
            risk.mitigation,
        )
        for risk in risks
        if risk.id not in COVERED_RISKS
    ]


def _spec_uri(ctx: CheckContext) -> str:
    return str(ctx.workspace.sources.get(ctx.usecase.id, ctx.usecase.id))
