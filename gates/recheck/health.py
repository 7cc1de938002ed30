"""Production health: SLOs, quality, cost and incidents judged over the monitoring window.

Each criterion is its own result with what was observed, what was expected and the
observations it used, so a failed night names its cause. Aggregation is deliberately
plain: availability is the window's mean (request-weighted when every period logs
``requests``); latency and error rate are judged on the newest period (the current
state), a spike against the window's median; quality on the newest period (daily) and
on the mean of the last ``weekly_days`` (weekly); cost as this calendar month's spend
plus the recent daily run-rate for its days not yet observed; incidents summed over the month.
"""

from __future__ import annotations

import calendar
import statistics
from datetime import date, datetime, timedelta

from gates.policy.recheck import HealthRule
from gates.recheck.monitoring import Series
from gates.results import CheckResult, Evidence, Status

KIND = "production-health"
#: Days of recent spend whose mean is the run-rate for the rest of the month.
RUN_RATE_DAYS = 7

HEALTH_CHECKS = (
    "health:freshness",
    "health:availability",
    "health:latency-p50",
    "health:latency-p95",
    "health:latency-p99",
    "health:error-rate",
    "health:quality-daily",
    "health:quality-weekly",
    "health:cost",
    "health:major-incidents",
)


def judge(
    series: Series, rule: HealthRule, now: datetime, budget: float | None, currency: str
) -> list[CheckResult]:
    """Every health result for one use case; missing metrics are errors, never passes."""
    ev = series.evidence
    results = list(series.validations)
    results.append(_freshness(series, rule, now, ev))
    if not series.observations:
        return results  # freshness already says nothing arrived; nothing else to judge
    results.append(_availability(series, rule, ev))
    for pct in ("p50", "p95", "p99"):
        limit = getattr(rule.latency_ms, pct)
        if limit is not None:
            results.append(
                _latest_at_most(
                    series, f"latency_{pct}_ms", f"health:latency-{pct}", limit, "ms", ev
                )
            )
    results.append(_error_rate(series, rule, ev))
    results.extend(_quality(series, rule, ev))
    results.append(_cost(series, rule, now, budget, currency, ev))
    results.append(_incidents(series, rule, now, ev))
    return results


def _missing(check: str, metric: str, evidence: tuple[Evidence, ...]) -> CheckResult:
    return CheckResult(
        check,
        KIND,
        Status.ERROR,
        f"no {metric} observations in the monitoring window",
        evidence=evidence,
    )


def _freshness(
    series: Series, rule: HealthRule, now: datetime, ev: tuple[Evidence, ...]
) -> CheckResult:
    expected = f"an observation within {rule.freshness_days:g} days"
    if not series.observations:
        return CheckResult(
            "health:freshness",
            KIND,
            Status.FAIL,
            f"no monitoring observation in the last {rule.window_days} days: production is unobserved",
            "none",
            expected,
            ev,
        )
    newest = series.observations[-1].at
    age = (now - newest).total_seconds() / 86400
    ok = age <= rule.freshness_days
    reason = f"newest observation {newest.isoformat()} is {age:.1f} days old" + (
        "" if ok else ": monitoring has stopped reporting"
    )
    return CheckResult(
        "health:freshness",
        KIND,
        Status.PASS if ok else Status.FAIL,
        reason,
        f"{age:.1f} days old",
        expected,
        ev,
    )


def _availability(series: Series, rule: HealthRule, ev: tuple[Evidence, ...]) -> CheckResult:
    check = "health:availability"
    points = [o for o in series.observations if "availability" in o.values]
    if not points:
        return _missing(check, "availability", ev)
    if all("requests" in o.values and o.values["requests"] > 0 for o in points):
        total = sum(o.values["requests"] for o in points)
        value = sum(o.values["availability"] * o.values["requests"] for o in points) / total
        how = f"request-weighted over {len(points)} periods"
    else:
        value = statistics.fmean(o.values["availability"] for o in points)
        how = f"mean of {len(points)} periods"
    ok = value >= rule.availability_min
    expected = f"≥ {_pct(rule.availability_min)}"
    reason = (
        f"availability {_pct(value)} ({how}) "
        + ("meets" if ok else "is below")
        + f" the {_pct(rule.availability_min)} minimum"
    )
    return CheckResult(
        check, KIND, Status.PASS if ok else Status.FAIL, reason, _pct(value), expected, ev
    )


def _latest_at_most(
    series: Series, metric: str, check: str, limit: float, unit: str, ev: tuple[Evidence, ...]
) -> CheckResult:
    points = series.values(metric)
    if not points:
        return _missing(check, metric, ev)
    at, value = points[-1]
    worst = max(v for _, v in points)
    ok = value <= limit
    expected = f"≤ {limit:g} {unit}"
    reason = (
        f"{metric} {value:g} {unit} on {at.date().isoformat()} "
        + ("within" if ok else "over")
        + f" the threshold {limit:g} {unit} (window worst {worst:g} {unit})"
    )
    return CheckResult(
        check, KIND, Status.PASS if ok else Status.FAIL, reason, f"{value:g} {unit}", expected, ev
    )


def _error_rate(series: Series, rule: HealthRule, ev: tuple[Evidence, ...]) -> CheckResult:
    check = "health:error-rate"
    points = series.values("error_rate")
    if not points:
        return _missing(check, "error_rate", ev)
    at, value = points[-1]
    earlier = [v for _, v in points[:-1]]
    baseline = statistics.median(earlier) if earlier else None
    factor = rule.error_rate.spike_factor
    expected = f"≤ {_pct(rule.error_rate.max)} and ≤ {factor:g}× the window median"
    problems = []
    if value > rule.error_rate.max:
        problems.append(f"over the threshold {_pct(rule.error_rate.max)}")
    if baseline is not None and baseline > 0 and value > factor * baseline:
        problems.append(f"a spike: {value / baseline:.1f}× the window median {_pct(baseline)}")
    status = Status.FAIL if problems else Status.PASS
    reason = f"error rate {_pct(value)} on {at.date().isoformat()}" + (
        ": " + "; ".join(problems) if problems else " within threshold, no spike"
    )
    return CheckResult(check, KIND, status, reason, _pct(value), expected, ev)


def _quality(series: Series, rule: HealthRule, ev: tuple[Evidence, ...]) -> list[CheckResult]:
    q = rule.quality
    checks = ("health:quality-daily", "health:quality-weekly")
    if q.target is None:
        reason = (
            "no quality target set (recheck.production.health.quality.target): "
            "a drop cannot be judged"
        )
        return [CheckResult(c, KIND, Status.ERROR, reason) for c in checks]
    points = series.values(q.metric)
    if not points:
        return [_missing(c, q.metric, ev) for c in checks]
    newest = points[-1][0]
    week = [v for at, v in points if at > newest - timedelta(days=q.weekly_days)]
    expected = f"within −{_pct(q.max_drop)} of target {q.target:g}"
    results = []
    for check, label, value in (
        (checks[0], f"on {newest.date().isoformat()}", points[-1][1]),
        (checks[1], f"mean of the last {q.weekly_days} days", statistics.fmean(week)),
    ):
        change = (value - q.target) / q.target if q.target else 0.0
        ok = change >= -q.max_drop
        reason = (
            f"{q.metric} {value:.4g} ({label}) is {change:+.1%} against target {q.target:g}"
            + ("" if ok else f": quality dropped more than {_pct(q.max_drop)}")
        )
        results.append(
            CheckResult(
                check,
                KIND,
                Status.PASS if ok else Status.FAIL,
                reason,
                f"{value:.4g} ({change:+.1%})",
                expected,
                ev,
            )
        )
    return results


def _cost(
    series: Series,
    rule: HealthRule,
    now: datetime,
    budget: float | None,
    currency: str,
    ev: tuple[Evidence, ...],
) -> CheckResult:
    check = "health:cost"
    expected = f"monthly forecast ≤ budget; warn at {_pct(rule.cost.warn_ratio)}"
    if budget is None or budget <= 0:
        return CheckResult(
            check,
            KIND,
            Status.ERROR,
            "no production budget (budgets.production) to judge cost against",
            expected=expected,
            evidence=ev,
        )
    points = series.values("cost")
    if not points:
        return _missing(check, "cost", ev)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days_in_month = calendar.monthrange(now.year, now.month)[1]
    daily_totals: dict[date, float] = {}
    for at, v in points:
        daily_totals[at.date()] = daily_totals.get(at.date(), 0.0) + v
    in_month = {day: v for day, v in daily_totals.items() if day >= month_start.date()}
    spent = sum(in_month.values())
    recent = [daily_totals[day] for day in sorted(daily_totals)[-RUN_RATE_DAYS:]]
    daily = statistics.fmean(recent)
    # Days of this month without an observation (still to come, or before monitoring
    # began) are filled with the recent daily run-rate.
    forecast = spent + daily * max(days_in_month - len(in_month), 0)
    ratio = forecast / budget
    if ratio > 1:
        status, verdict = Status.FAIL, "over budget"
    elif ratio >= rule.cost.warn_ratio:
        status, verdict = (
            Status.WARN,
            f"at {_pct(ratio)} of budget (alert mark {_pct(rule.cost.warn_ratio)})",
        )
    else:
        status, verdict = Status.PASS, "within budget"
    reason = (
        f"monthly cost forecast {forecast:,.0f} {currency} ({spent:,.0f} observed over "
        f"{len(in_month)} days this month + {daily:,.0f}/day run-rate for the other "
        f"{max(days_in_month - len(in_month), 0)}) against budget {budget:,.0f}: {verdict}"
    )
    return CheckResult(check, KIND, status, reason, f"{_pct(ratio)} of budget", expected, ev)


def _incidents(
    series: Series, rule: HealthRule, now: datetime, ev: tuple[Evidence, ...]
) -> CheckResult:
    check = "health:major-incidents"
    points = series.values("major_incidents")
    if not points:
        return _missing(check, "major_incidents", ev)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    count = int(sum(v for at, v in points if at >= month_start))
    ok = count <= rule.major_incidents_max
    expected = f"≤ {rule.major_incidents_max} this month"
    reason = f"{count} major incident(s) since {month_start.date().isoformat()}"
    return CheckResult(check, KIND, Status.PASS if ok else Status.FAIL, reason, count, expected, ev)


def _pct(value: float) -> str:
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"
