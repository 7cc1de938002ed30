"""A month of production monitoring in figures: per day, per week, for the month.

Pure arithmetic over the observations the monitoring source gave (``monitoring.Series``)
and the thresholds the ledger locked (``HealthRule``, the production budget): no I/O.
The rules are the nightly health check's, applied to a calendar month instead of a
rolling window: availability and error rate are request-weighted when every period logs
``requests``; quality is judged per ISO week against the target's floor; cost is the
month's spend plus the recent daily run-rate for its days without an observation (the
nightly forecast); a latency or error-rate threshold is met when no day went over it.
"""

from __future__ import annotations

import calendar
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gates.errors import ConfigError
from gates.policy.recheck import HealthRule
from gates.recheck.health import RUN_RATE_DAYS  # the nightly forecast's own run-rate
from gates.recheck.monitoring import Observation

PERCENTILES = ("p50", "p95", "p99")


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC: ``start`` inclusive, ``end`` exclusive."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str, *, field_name: str = "--month") -> Month:
        """``2026-11``; anything else is a ConfigError naming the field."""
        year, sep, month = text.strip().partition("-")
        if not (sep and len(year) == 4 and year.isdigit() and month.isdigit() and len(month) == 2):
            raise ConfigError(field_name, [f"{text!r}: expected a month as YYYY-MM, e.g. 2026-11"])
        if not 1 <= int(month) <= 12:
            raise ConfigError(field_name, [f"{text!r}: month {month} is not 01 to 12"])
        return cls(int(year), int(month))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def dates(self) -> list[date]:
        return [self.start.date() + timedelta(days=i) for i in range(self.days)]

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The month ``moment`` falls in (UTC)."""
        utc = moment.astimezone(UTC)
        return cls(utc.year, utc.month)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)


def last_complete_month(now: datetime) -> Month:
    """The latest month that has ended by ``now``."""
    return Month.of(now).previous()


@dataclass(frozen=True)
class Day:
    """One day's figures (several observations on a day are combined)."""

    day: date
    availability: float | None = None
    latency_ms: tuple[float | None, float | None, float | None] = (None, None, None)
    error_rate: float | None = None
    quality: float | None = None
    cost: float | None = None
    major_incidents: int | None = None
    requests: float | None = None

    def latency(self, pct: str) -> float | None:
        return self.latency_ms[PERCENTILES.index(pct)]

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "availability": self.availability,
            "latencyP50Ms": self.latency_ms[0],
            "latencyP95Ms": self.latency_ms[1],
            "latencyP99Ms": self.latency_ms[2],
            "errorRate": self.error_rate,
            "quality": self.quality,
            "cost": self.cost,
            "majorIncidents": self.major_incidents,
            "requests": self.requests,
        }


def days_of(observations: Sequence[Observation], quality_metric: str) -> tuple[Day, ...]:
    """Observations grouped by UTC day, oldest first."""
    by_day: dict[date, list[Observation]] = {}
    for o in observations:
        by_day.setdefault(o.at.astimezone(UTC).date(), []).append(o)
    return tuple(_day(d, by_day[d], quality_metric) for d in sorted(by_day))


def _day(day: date, points: list[Observation], quality_metric: str) -> Day:
    def values(metric: str) -> list[float]:
        return [o.values[metric] for o in points if metric in o.values]

    def worst(metric: str) -> float | None:  # the conservative reading of a latency
        found = values(metric)
        return max(found) if found else None

    def total(metric: str) -> float | None:
        found = values(metric)
        return sum(found) if found else None

    incidents = total("major_incidents")
    return Day(
        day=day,
        availability=_weighted(points, "availability"),
        latency_ms=(worst("latency_p50_ms"), worst("latency_p95_ms"), worst("latency_p99_ms")),
        error_rate=_weighted(points, "error_rate"),
        quality=statistics.fmean(values(quality_metric)) if values(quality_metric) else None,
        cost=total("cost"),
        major_incidents=int(incidents) if incidents is not None else None,
        requests=total("requests"),
    )


def _weighted(points: Sequence[Observation], metric: str) -> float | None:
    """Request-weighted mean when every point has requests, else the plain mean."""
    found = [o for o in points if metric in o.values]
    if not found:
        return None
    if all(o.values.get("requests", 0) > 0 for o in found):
        total = sum(o.values["requests"] for o in found)
        return sum(o.values[metric] * o.values["requests"] for o in found) / total
    return statistics.fmean(o.values[metric] for o in found)


@dataclass(frozen=True)
class Judged:
    """One of the playbook's production criteria over the month."""

    key: str
    label: str
    value: str
    target: str
    #: True met, False not met, None cannot be judged (no data or no target).
    met: bool | None
    detail: str
    #: ``warn`` for the cost past its alert mark but within budget.
    warn: bool = False

    @property
    def status(self) -> str:
        if self.met is None:
            return "unknown"
        if not self.met:
            return "not met"
        return "warning" if self.warn else "met"

    def to_json(self) -> dict[str, object]:
        return {
            "criterion": self.key,
            "label": self.label,
            "value": self.value,
            "target": self.target,
            "status": self.status,
            "met": self.met,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Week:
    """An ISO week, cut to the month: its quality mean against the target's floor."""

    label: str
    first: date
    last: date
    quality: float | None
    change: float | None
    met: bool | None

    def to_json(self) -> dict[str, object]:
        return {
            "week": self.label,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "quality": self.quality,
            "changeVsTarget": self.change,
            "met": self.met,
        }


@dataclass(frozen=True)
class Cost:
    """The month's spend against the production budget and its alert mark.

    As the nightly health check forecasts it: the month's observed spend, plus the
    recent daily run-rate for each day of the month without an observation (before
    Production began, before monitoring reported, or still to come). Against a monthly
    budget, that is what the service costs per month at its current run-rate.
    """

    currency: str
    budget: float | None
    warn_ratio: float
    spent: float
    observed_days: int
    filled_days: int
    run_rate: float | None
    #: The observed spend, accumulated day by day.
    cumulative: tuple[tuple[date, float], ...]
    #: When the observed spend passed the alert mark and the budget, if it did.
    warn_crossed: date | None
    budget_crossed: date | None

    @property
    def total(self) -> float:
        """The observed spend plus the run-rate for the days without an observation."""
        return self.spent + (self.run_rate or 0.0) * self.filled_days

    @property
    def ratio(self) -> float | None:
        return self.total / self.budget if self.budget else None

    def to_json(self) -> dict[str, object]:
        return {
            "currency": self.currency,
            "budget": self.budget,
            "warnRatio": self.warn_ratio,
            "spent": self.spent,
            "observedDays": self.observed_days,
            "filledDays": self.filled_days,
            "runRate": self.run_rate,
            "monthly": self.total,
            "ratio": self.ratio,
            "warnCrossed": self.warn_crossed.isoformat() if self.warn_crossed else None,
            "budgetCrossed": self.budget_crossed.isoformat() if self.budget_crossed else None,
        }


def pct(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:.{digits}f}".rstrip("0").rstrip(".")
    return f"{text}%"


def month_availability(points: Sequence[Observation], rule: HealthRule) -> Judged:
    value = _weighted(points, "availability")
    target = f"≥ {pct(rule.availability_min)}"
    if value is None:
        return Judged("availability", "Availability", "—", target, None, "no availability observed")
    weighted = all(o.values.get("requests", 0) > 0 for o in points if "availability" in o.values)
    how = "request-weighted" if weighted else "mean of the observations"
    met = value >= rule.availability_min
    return Judged(
        "availability", "Availability", pct(value, 3), target, met,
        f"{pct(value, 3)} over the month ({how})",
    )  # fmt: skip


def month_latency(days: Sequence[Day], rule: HealthRule, p: str) -> Judged:
    limit = getattr(rule.latency_ms, p)
    label = f"Latency {p.upper()}"
    target = f"≤ {limit:g} ms every day" if limit is not None else "no threshold"
    found = [(d.day, v) for d in days if (v := d.latency(p)) is not None]
    if not found:
        return Judged(f"latency-{p}", label, "—", target, None, f"no latency_{p}_ms observed")
    median = statistics.median(v for _, v in found)
    worst_day, worst = max(found, key=lambda dv: dv[1])
    over = [d for d, v in found if limit is not None and v > limit]
    detail = f"median of {len(found)} days {median:g} ms; worst {worst:g} ms on {worst_day}"
    if over:
        detail += f"; over the threshold on {len(over)} day(s)"
    met = None if limit is None else not over
    return Judged(f"latency-{p}", label, f"{median:g} ms", target, met, detail)


def month_error_rate(
    days: Sequence[Day], points: Sequence[Observation], rule: HealthRule
) -> tuple[Judged, tuple[date, ...]]:
    """The month's error rate, and the days it spiked above the month's daily median."""
    target = f"≤ {pct(rule.error_rate.max)} every day, no spike"
    found = [(d.day, d.error_rate) for d in days if d.error_rate is not None]
    if not found:
        return Judged("error-rate", "Error rate", "—", target, None, "no error_rate observed"), ()
    value = _weighted(points, "error_rate")
    median = statistics.median(v for _, v in found)
    factor = rule.error_rate.spike_factor
    spikes = tuple(d for d, v in found if median > 0 and v > factor * median)
    over = [d for d, v in found if v > rule.error_rate.max]
    worst_day, worst = max(found, key=lambda dv: dv[1])
    detail = f"{pct(value, 3)} over the month; worst {pct(worst, 3)} on {worst_day}"
    if over:
        detail += f"; over the threshold on {len(over)} day(s)"
    if spikes:
        detail += f"; spikes (over {factor:g}× the daily median) on {len(spikes)} day(s)"
    met = not over and not spikes
    return Judged("error-rate", "Error rate", pct(value, 3), target, met, detail), spikes


def month_quality(days: Sequence[Day], rule: HealthRule) -> tuple[Judged, tuple[Week, ...]]:
    """Quality per ISO week against ``target × (1 − max_drop)``, and the days below it."""
    q = rule.quality
    label = f"Quality ({q.metric})"
    if q.target is None:
        note = "no quality target set (recheck.production.health.quality.target)"
        return Judged("quality", label, "—", "a target", None, note), ()
    floor = q.target * (1 - q.max_drop)
    target = f"within −{pct(q.max_drop)} of {q.target:g} (≥ {floor:.4g}) each week"
    found = [d for d in days if d.quality is not None]
    weeks = _weeks(found, q.target, floor)
    if not found:
        return Judged("quality", label, "—", target, None, f"no {q.metric} observed"), weeks
    mean = statistics.fmean(d.quality for d in found if d.quality is not None)
    below = [d.day for d in found if d.quality is not None and d.quality < floor]
    change = (mean - q.target) / q.target
    detail = f"month mean {mean:.4g} ({change:+.1%} against target {q.target:g})"
    if below:
        detail += f"; below the floor on {len(below)} day(s)"
    met = all(w.met for w in weeks if w.met is not None)
    return Judged("quality", label, f"{mean:.4g}", target, met, detail), weeks


def _weeks(days: Sequence[Day], target: float, floor: float) -> tuple[Week, ...]:
    by_week: dict[tuple[int, int], list[Day]] = {}
    for d in days:
        iso = d.day.isocalendar()
        by_week.setdefault((iso.year, iso.week), []).append(d)
    weeks = []
    for (year, week), members in sorted(by_week.items()):
        values = [d.quality for d in members if d.quality is not None]
        mean = statistics.fmean(values) if values else None
        weeks.append(
            Week(
                f"{year}-W{week:02d}",
                members[0].day,
                members[-1].day,
                mean,
                (mean - target) / target if mean is not None and target else None,
                None if mean is None else mean >= floor,
            )
        )
    return tuple(weeks)


def month_incidents(
    days: Sequence[Day], rule: HealthRule
) -> tuple[Judged, tuple[tuple[date, int], ...]]:
    target = f"≤ {rule.major_incidents_max} in the month"
    found = [(d.day, d.major_incidents) for d in days if d.major_incidents is not None]
    if not found:
        note = "no major_incidents observed"
        return Judged("major-incidents", "Major incidents", "—", target, None, note), ()
    total = sum(n for _, n in found)
    with_incidents = tuple((d, n) for d, n in found if n > 0)
    detail = (
        f"{total} major incident(s) on {len(with_incidents)} day(s)"
        if total
        else f"none in {len(found)} observed days"
    )
    met = total <= rule.major_incidents_max
    return Judged(
        "major-incidents", "Major incidents", str(total), target, met, detail
    ), with_incidents


def month_cost(
    days: Sequence[Day], month: Month, budget: float | None, currency: str, rule: HealthRule
) -> tuple[Judged, Cost]:
    """The month's cost at its run-rate against the budget, and when the spend passed its marks."""
    costs = [(d.day, d.cost) for d in days if d.cost is not None]
    recent = [c for _, c in costs[-RUN_RATE_DAYS:]]
    run_rate = statistics.fmean(recent) if recent else None
    cumulative: list[tuple[date, float]] = []
    running = 0.0
    warn_crossed = budget_crossed = None
    for day, spent in costs:
        running += spent
        cumulative.append((day, running))
        if budget and warn_crossed is None and running >= rule.cost.warn_ratio * budget:
            warn_crossed = day
        if budget and budget_crossed is None and running > budget:
            budget_crossed = day
    filled = month.days - len(costs) if run_rate is not None else 0
    cost = Cost(
        currency, budget, rule.cost.warn_ratio, running, len(costs), filled, run_rate,
        tuple(cumulative), warn_crossed, budget_crossed,
    )  # fmt: skip
    target = (
        f"≤ {budget:,.0f} {currency} a month (alert at {pct(rule.cost.warn_ratio)})"
        if budget
        else "a production budget"
    )
    if not budget:
        note = "no production budget (budgets.production) to judge cost against"
        return Judged("cost", "Cost", f"{cost.total:,.0f} {currency}", target, None, note), cost
    if not costs:
        return Judged("cost", "Cost", "—", target, None, "no cost observed"), cost
    ratio = cost.total / budget
    detail = f"{cost.spent:,.0f} {currency} spent over {cost.observed_days} observed day(s)"
    if cost.filled_days:
        detail += (
            f"; at the run-rate of {cost.run_rate or 0:,.0f}/day for the other "
            f"{cost.filled_days} day(s) the month comes to {cost.total:,.0f}"
        )
    detail += f": {pct(ratio, 1)} of budget"
    if ratio >= rule.cost.warn_ratio:
        detail += f", past the {pct(rule.cost.warn_ratio)} alert mark"
    if warn_crossed:
        detail += f"; the spend itself passed the mark on {warn_crossed}"
    value = f"{cost.total:,.0f} {currency} ({pct(ratio, 1)})"
    judged = Judged(
        "cost", "Cost", value, target, ratio <= 1, detail, warn=ratio >= rule.cost.warn_ratio
    )
    return judged, cost
