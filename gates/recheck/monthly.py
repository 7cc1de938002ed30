"""The playbook's monthly operations report: one use case's month in Production, as data.

Two sources, each trusted for what it is: the verified ledger (when the use case was in
Production, the criteria and budget locked for it, and every signed nightly re-check of
the month with the alert it sent) and the monitoring source the spec declares
(``evidence.monitoring``: MLflow runs and/or a GX-validated dataset), read for the
month's days through the same loader as the nightly health check. The figures are
``monthly_figures``'. A month the use case spent outside Production, a month not yet
begun, or one without monitoring data is an error, never an empty report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gates.checks.interface import CheckContext, StageView
from gates.errors import ConfigError, EvidenceError, StagegateError
from gates.ledger.entry import Entry
from gates.ledger.statement import CriteriaLock
from gates.policy.model import ExitCriteria
from gates.policy.recheck import HealthRule, effective_recheck_policy
from gates.recheck import monthly_figures as figures
from gates.recheck.monitoring import load_series
from gates.recheck.monthly_figures import Cost, Day, Judged, Month, Week
from gates.results import Evidence, Status
from gates.stages import Stage
from gates.workspace.session import Session


@dataclass(frozen=True)
class Span:
    """A stretch in Production: ``end`` None while it lasts."""

    start: datetime
    end: datetime | None

    def to_json(self) -> dict[str, object]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat() if self.end else None}


@dataclass(frozen=True)
class Night:
    """A signed re-check entry of the month, with the alert it records."""

    sequence: int
    time: datetime
    verdict: str
    problems: tuple[str, ...]
    alert: str
    alert_detail: str

    def to_json(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "time": self.time.isoformat(),
            "verdict": self.verdict,
            "problems": list(self.problems),
            "alert": self.alert,
            "alertDetail": self.alert_detail,
        }


@dataclass(frozen=True)
class StageMove:
    sequence: int
    time: datetime
    kind: str
    before: str | None
    after: str

    def to_json(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "time": self.time.isoformat(),
            "kind": self.kind,
            "from": self.before,
            "to": self.after,
        }


@dataclass(frozen=True)
class MonthlyReport:
    usecase: str
    title: str
    department: str
    month: Month
    generated_at: datetime
    #: The month has not ended: cost is a projection to its end.
    in_progress: bool
    simulated_clock: bool
    spans: tuple[Span, ...]
    production_days: tuple[date, ...]
    lock_digest: str
    policy_digest: str
    rule: HealthRule
    days: tuple[Day, ...]
    observations: int
    sources: tuple[Evidence, ...]
    summary: tuple[Judged, ...]
    weeks: tuple[Week, ...]
    error_spikes: tuple[date, ...]
    incident_days: tuple[tuple[date, int], ...]
    cost: Cost
    requests: float | None
    nights: tuple[Night, ...]
    moves: tuple[StageMove, ...]

    @property
    def alerts_sent(self) -> tuple[Night, ...]:
        return tuple(n for n in self.nights if n.alert == "sent")

    @property
    def alerts_not_sent(self) -> tuple[Night, ...]:
        """Nights whose verdict warranted an alert that did not go out (no webhook, failure)."""
        return tuple(n for n in self.nights if n.alert in ("failed", "disabled"))

    def to_json(self) -> dict[str, Any]:
        return {
            "useCase": self.usecase,
            "title": self.title,
            "department": self.department,
            "month": self.month.label,
            "from": self.month.start.isoformat(),
            "to": self.month.end.isoformat(),
            "generatedAt": self.generated_at.isoformat(),
            "inProgress": self.in_progress,
            "simulatedClock": self.simulated_clock,
            "production": {
                "spans": [s.to_json() for s in self.spans],
                "days": len(self.production_days),
            },
            "criteriaDigest": self.lock_digest,
            "policyDigest": self.policy_digest,
            "observations": {
                "count": self.observations,
                "days": len(self.days),
                "first": self.days[0].day.isoformat() if self.days else None,
                "last": self.days[-1].day.isoformat() if self.days else None,
                "sources": [e.to_json() for e in self.sources],
            },
            "summary": [j.to_json() for j in self.summary],
            "quality": {
                "metric": self.rule.quality.metric,
                "target": self.rule.quality.target,
                "maxDrop": self.rule.quality.max_drop,
                "weeks": [w.to_json() for w in self.weeks],
            },
            "errorRate": {"spikeDays": [d.isoformat() for d in self.error_spikes]},
            "incidents": {
                "days": [{"date": d.isoformat(), "count": n} for d, n in self.incident_days]
            },
            "cost": self.cost.to_json(),
            "usage": {"requests": self.requests},
            "rechecks": [n.to_json() for n in self.nights],
            "alerts": {
                "sent": len(self.alerts_sent),
                "notSent": len(self.alerts_not_sent),
            },
            "stageChanges": [m.to_json() for m in self.moves],
            "days": [d.to_json() for d in self.days],
        }


def monthly_report(session: Session, usecase_id: str, month: Month, now: datetime) -> MonthlyReport:
    """The month's report; StagegateError (exit 2) when there is no month in Production to show."""
    if month.start > now:
        raise ConfigError("--month", [f"{month.label} has not begun (now {now.date()})"])
    spec = session.workspace.usecase(usecase_id)
    state = session.ledger.state(usecase_id)  # verified, or LedgerError naming the violation
    history = tuple(e for e in state.history if e.predicate.time <= now)  # as of ``now``
    spans = production_spans(history)
    production_days = _days_in(spans, month)
    if not production_days:
        raise StagegateError(
            f"{usecase_id} was not in Production in {month.label}: " + _where_it_was(spans, state),
            hint="the monthly operations report covers a month in Production",
        )
    window_end = min(month.end, now)
    lock = production_lock(history, window_end)
    if lock is None:
        raise StagegateError(f"{usecase_id}: no Production criteria lock in the ledger")
    criteria = _criteria(usecase_id, lock)
    policy = criteria.recheck or effective_recheck_policy(
        Stage.PRODUCTION, spec.recheck.get("production"), source=usecase_id
    )
    rule = policy.health
    if rule is None:
        raise StagegateError(
            f"{usecase_id}: the locked Production re-check policy has no health rule"
        )
    monitoring = spec.evidence.monitoring
    if monitoring is None:
        raise EvidenceError(
            f"{usecase_id}: no evidence.monitoring declared (an MLflow experiment and/or an "
            "operational dataset): there is nothing to report the month from"
        )
    ctx = CheckContext(
        workspace=session.workspace,
        usecase=spec,
        stage=Stage.PRODUCTION,
        criteria=criteria,
        criteria_digest=lock.digest,
        view=StageView(Stage.PRODUCTION, spans[-1].start, lock.digest),
        now=window_end,
    )
    window_days = math.ceil((window_end - month.start).total_seconds() / 86400)
    series = load_series(ctx, monitoring, window_days)
    for validation in series.validations:
        if validation.status in (Status.FAIL, Status.ERROR):
            raise EvidenceError(
                f"{usecase_id}: the monitoring dataset does not pass its expectations "
                f"({validation.check}: {validation.reason}); its figures are not reported"
            )
    # Only the days in Production: a stage before it is judged by its own gate. Days, not
    # instants, because a daily row is stamped at midnight of the day the gate passed in.
    in_production = set(production_days)
    points = [
        o
        for o in series.observations
        if month.start <= o.at < window_end and o.at.astimezone(UTC).date() in in_production
    ]
    if not points:
        sources = ", ".join(e.uri for e in series.evidence) or "evidence.monitoring"
        raise StagegateError(
            f"{usecase_id}: no monitoring data for its days in Production in {month.label} "
            f"({sources})",
            hint="the report is made from the month's monitoring runs or rows",
        )
    days = figures.days_of(points, rule.quality.metric)
    error_rate, spikes = figures.month_error_rate(days, points, rule)
    quality, weeks = figures.month_quality(days, rule)
    incidents, incident_days = figures.month_incidents(days, rule)
    cost_judged, cost = figures.month_cost(
        days, month, criteria.budget_for("production"), criteria.currency, rule
    )
    summary = (
        figures.month_availability(points, rule),
        *(figures.month_latency(days, rule, p) for p in figures.PERCENTILES),
        error_rate,
        quality,
        incidents,
        cost_judged,
    )
    requests = [d.requests for d in days if d.requests is not None]
    return MonthlyReport(
        usecase=usecase_id,
        title=spec.title,
        department=spec.department,
        month=month,
        generated_at=now,
        in_progress=now < month.end,
        simulated_clock=session.clock.simulated,
        spans=spans,
        production_days=production_days,
        lock_digest=lock.digest,
        policy_digest=policy.digest,
        rule=rule,
        days=days,
        observations=len(points),
        sources=series.evidence,
        summary=summary,
        weeks=weeks,
        error_spikes=spikes,
        incident_days=incident_days,
        cost=cost,
        requests=sum(requests) if requests else None,
        nights=_nights(history, month),
        moves=_moves(history, month),
    )


def production_spans(history: tuple[Entry, ...]) -> tuple[Span, ...]:
    """When the chain had the use case in Production, from the entries that moved it."""
    spans: list[Span] = []
    start: datetime | None = None
    for entry in history:
        p = entry.predicate
        inside = p.stage.after == Stage.PRODUCTION.value
        if inside and start is None:
            start = p.time
        elif not inside and start is not None:
            spans.append(Span(start, p.time))
            start = None
    if start is not None:
        spans.append(Span(start, None))
    return tuple(spans)


def production_lock(history: tuple[Entry, ...], before: datetime) -> CriteriaLock | None:
    """The Production criteria in force last before ``before`` (a later amendment wins)."""
    lock = None
    for entry in history:
        p = entry.predicate
        if p.time >= before:
            break
        if p.lock is not None and p.lock.stage == Stage.PRODUCTION.value:
            lock = p.lock
    return lock


def _criteria(usecase_id: str, lock: CriteriaLock) -> ExitCriteria:
    try:
        return ExitCriteria.model_validate(lock.criteria)
    except ValueError as e:
        raise StagegateError(
            f"{usecase_id}: the locked Production criteria ({lock.digest}) cannot be read by "
            f"this version: {e}"
        ) from e


def _days_in(spans: tuple[Span, ...], month: Month) -> tuple[date, ...]:
    """The month's days that overlap a stretch in Production (an open one runs to month end)."""
    days = []
    for day in month.dates():
        start = datetime(day.year, day.month, day.day, tzinfo=month.start.tzinfo)
        end = start + timedelta(days=1)
        if any(s.start < end and (s.end is None or s.end > start) for s in spans):
            days.append(day)
    return tuple(days)


def _where_it_was(spans: tuple[Span, ...], state: Any) -> str:
    if not spans:
        stage = state.stage.value if state.stage else "not registered"
        return f"it has not reached Production (stage: {stage})"
    told = ", ".join(
        f"from {s.start.date()}" + (f" to {s.end.date()}" if s.end else " on") for s in spans
    )
    return f"it was in Production {told}"


def _nights(history: tuple[Entry, ...], month: Month) -> tuple[Night, ...]:
    nights = []
    for entry in history:
        p = entry.predicate
        r = p.recheck
        if r is None or not month.start <= p.time < month.end:
            continue
        problems = tuple(
            f"{c.check} {c.status}" for c in r.checks if c.status in ("warn", "fail", "error")
        )
        nights.append(
            Night(
                entry.sequence,
                p.time,
                r.verdict,
                problems,
                r.alert.status if r.alert else "none",
                r.alert.detail if r.alert else "",
            )
        )
    return tuple(nights)


def _moves(history: tuple[Entry, ...], month: Month) -> tuple[StageMove, ...]:
    return tuple(
        StageMove(
            e.sequence,
            e.predicate.time,
            e.predicate.kind,
            e.predicate.stage.before,
            e.predicate.stage.after,
        )
        for e in history
        if month.start <= e.predicate.time < month.end
        and e.predicate.stage.before != e.predicate.stage.after
    )
