"""Check kind ``scale-readiness``: is the organisation ready to spread this success?

The Production → Scale gate asks the quarterly Scale review (``gates.scale``) about the
last complete quarter before the gate runs: enough new use cases reached Production,
the share of departments using AI did not fall, and adoption did not get slower (the
reuse effect). The numbers come from the verified ledger of the gate's own workspace,
opened the way a session opens it (its store, its trusted keys), never from a second
source; they are bound by digest with every chain head they were read from.
"""

from __future__ import annotations

from gates.canonical import digest_of
from gates.checks.interface import CheckContext, error_result
from gates.errors import StagegateError
from gates.policy.model import ScaleCriteria
from gates.results import CheckResult, Evidence, Status
from gates.scale.metrics import LedgerMetrics, ledger_metrics
from gates.scale.quarters import Quarter, review_quarter
from gates.scale.review import GoalReview, ScaleReview
from gates.workspace.session import Session

KIND = "scale-readiness"


def run(ctx: CheckContext) -> list[CheckResult]:
    criteria = ctx.criteria.scale
    if criteria is None:
        return []
    quarter = review_quarter(ctx.now)  # the last complete quarter
    try:
        ledger = Session(ctx.workspace).ledger
        metrics = ledger_metrics(ledger, ctx.workspace, quarter, ctx.now)
    except StagegateError as e:
        return [error_result("scale:ledger", KIND, f"Scale review of {quarter}: {e.message}")]
    review = ScaleReview(metrics.quarters, criteria.production_per_quarter_min)
    goals = {g.metric: g for g in review.goals()}
    evidence = (_evidence(ledger.store.uri, metrics, review),)
    return [
        _production(review, criteria, evidence),
        _departments(goals["departmentShare"], quarter, criteria, evidence),
        _adoption_time(goals["exploreToProductionDays"], quarter, criteria, evidence),
    ]


def _production(
    review: ScaleReview, criteria: ScaleCriteria, evidence: tuple[Evidence, ...]
) -> CheckResult:
    q = review.current
    need = criteria.production_per_quarter_min
    names = ", ".join(a.usecase for a in q.arrivals) or "none"
    observed = f"{q.production_count} in {q.quarter}"
    expected = f"≥ {need} new use cases reach Production per quarter"
    if q.production_count >= need:
        status, reason = (
            Status.PASS,
            f"{q.production_count} use case(s) reached Production in {q.quarter}: {names}",
        )
    else:
        status = Status.FAIL
        reason = f"only {q.production_count} use case(s) reached Production in {q.quarter} ({names}); the Scale goal is {need} per quarter"
    return CheckResult(
        "scale:production-per-quarter", KIND, status, reason, observed, expected, evidence
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _departments(
    goal: GoalReview, quarter: Quarter, criteria: ScaleCriteria, evidence: tuple[Evidence, ...]
) -> CheckResult:
    check = "scale:department-share"
    observed = f"{_share(goal.value)} at the end of {quarter} (before: {_share(goal.previous)})"
    expected = "not falling" if not criteria.department_share_may_fall else "rising (may fall)"
    if goal.value is None:
        reason = f"no department had a registered use case by the end of {quarter}"
        return CheckResult(check, KIND, Status.SKIPPED, reason, observed, expected, evidence)
    if goal.trend is None:
        reason = f"no earlier quarter to compare {quarter}'s department share with"
        return CheckResult(check, KIND, Status.SKIPPED, reason, observed, expected, evidence)
    if goal.trend == "falling":
        status = Status.WARN if criteria.department_share_may_fall else Status.FAIL
        reason = f"the share of departments with a use case in Production fell to {_share(goal.value)} from {_share(goal.previous)}"
    else:
        status = Status.PASS
        reason = f"the share of departments with a use case in Production is {goal.trend} ({_share(goal.previous)} → {_share(goal.value)})"
    return CheckResult(check, KIND, status, reason, observed, expected, evidence)


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} days"


def _adoption_time(
    goal: GoalReview, quarter: Quarter, criteria: ScaleCriteria, evidence: tuple[Evidence, ...]
) -> CheckResult:
    check = "scale:adoption-time"
    observed = f"median {_days(goal.value)} Explore → Production in {quarter} (before: {_days(goal.previous)})"
    expected = "not rising (reuse makes adoption faster)"
    if criteria.adoption_time_rising == "ignore":
        reason = "adoption time is not judged under these criteria"
        return CheckResult(check, KIND, Status.SKIPPED, reason, observed, expected, evidence)
    if goal.trend is None:
        reason = (
            f"no use case reached Production in {quarter}"
            if goal.value is None
            else "no earlier quarter with a use case reaching Production to compare with"
        )
        return CheckResult(check, KIND, Status.SKIPPED, reason, observed, expected, evidence)
    if goal.trend == "rising":
        status = Status.FAIL if criteria.adoption_time_rising == "fail" else Status.WARN
        reason = f"adoption got slower: median Explore → Production rose to {_days(goal.value)} from {_days(goal.previous)}"
    else:
        status = Status.PASS
        reason = f"median Explore → Production is {goal.trend} ({_days(goal.previous)} → {_days(goal.value)})"
    return CheckResult(check, KIND, status, reason, observed, expected, evidence)


def _evidence(store_uri: str, metrics: LedgerMetrics, review: ScaleReview) -> Evidence:
    """The quarters judged and every chain head they were read from, digested together."""
    details = {
        "quarter": review.current.quarter.label,
        "asOf": metrics.as_of.isoformat(),
        "heads": {j.usecase: j.head for j in metrics.journeys},
        "quarters": [q.to_json() for q in metrics.quarters],
    }
    return Evidence(
        kind="scale-review", uri=f"{store_uri}#chains", digest=digest_of(details), details=details
    )
