"""Check kind ``pilot-outcomes``: did real users find the pilot useful (playbook Pilot exit)?

Five results: ``pilot:users`` (10–50 distinct users), ``pilot:satisfaction`` (mean
score ≥ 4.0/5), ``pilot:weekly-feedback`` (feedback in every week), ``pilot:kpi`` (the
business KPI beat its baseline) and ``pilot:critical-issues`` (no open critical issue).

Feedback dataset columns: ``user_id``, ``timestamp``, ``score`` (1 to the scale's top).

Weekly rule: the pilot window runs from the stage's start in the ledger to now and is
cut into 7-day weeks from that start. Every complete week needs at least one feedback
row. A final partial week is not judged (its seven days are not over), except when the
window is shorter than one week, in which case that partial week must already have
feedback. Without a recorded start, the window starts at the first feedback row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gates.checks.interface import CheckContext, error_result
from gates.errors import EvidenceError
from gates.evidence.datasets import LoadedDataset, load_dataset
from gates.evidence.issues import load_issues
from gates.policy.model import PilotCriteria
from gates.results import CheckResult, Status
from gates.workspace.usecase import KpiEvidence

if TYPE_CHECKING:
    import pandas as pd

KIND = "pilot-outcomes"
USERS = "pilot:users"
SATISFACTION = "pilot:satisfaction"
WEEKLY = "pilot:weekly-feedback"
KPI = "pilot:kpi"
CRITICAL = "pilot:critical-issues"
WEEK = timedelta(days=7)
#: Columns of the pilot feedback dataset (``evidence.pilot.feedback``).
FEEDBACK_COLUMNS = ("user_id", "timestamp", "score")


@dataclass(frozen=True)
class Feedback:
    """The validated feedback dataset: timestamps in UTC, scores as floats."""

    name: str
    loaded: LoadedDataset
    users: pd.Series
    timestamps: pd.Series
    scores: pd.Series


def run(ctx: CheckContext) -> list[CheckResult]:
    criteria = ctx.criteria.pilot
    if criteria is None:
        return []
    results: list[CheckResult] = []
    try:
        feedback = load_feedback(ctx, criteria)
    except EvidenceError as e:
        names = [USERS, SATISFACTION] + ([WEEKLY] if criteria.weekly_feedback else [])
        results.extend(error_result(name, KIND, e.message) for name in names)
    else:
        results.append(users_result(feedback, criteria))
        results.append(satisfaction_result(feedback, criteria))
        if criteria.weekly_feedback:
            results.append(weekly_result(ctx, feedback))
    if not criteria.weekly_feedback:
        results.append(_skipped(WEEKLY, "weekly feedback is not required by the exit criteria"))
    results.append(kpi_result(ctx, criteria))
    results.append(critical_issues_result(ctx, criteria))
    return results


def shown(value: object) -> str:
    """A cell value for a message: text quoted, numbers plain (not numpy reprs)."""
    return repr(value) if isinstance(value, str) else str(value)


def _skipped(check: str, reason: str) -> CheckResult:
    return CheckResult(check, KIND, Status.SKIPPED, reason)


def named_dataset(ctx: CheckContext, name: str, field: str) -> LoadedDataset:
    """Load the dataset ``name`` declared under evidence.datasets; errors name ``field``."""
    location = ctx.usecase.evidence.datasets.get(name)
    if location is None:
        raise EvidenceError(
            f"{field}: names dataset {name!r}, which is not declared under evidence.datasets"
        )
    try:
        return load_dataset(ctx.workspace.evidence_path(location))
    except EvidenceError as e:
        raise EvidenceError(f"{field} (dataset {name!r}): {e.message}") from e


def load_feedback(ctx: CheckContext, criteria: PilotCriteria) -> Feedback:
    import pandas as pd

    name = ctx.usecase.evidence.pilot.feedback
    loaded = named_dataset(ctx, name, "evidence.pilot.feedback")
    where = f"feedback dataset {name!r} ({loaded.uri})"
    frame = loaded.frame
    missing = [c for c in FEEDBACK_COLUMNS if c not in frame.columns]
    if missing:
        raise EvidenceError(
            f"{where}: missing column(s) {', '.join(missing)}; "
            f"expected columns {', '.join(FEEDBACK_COLUMNS)}"
        )
    users = frame["user_id"]
    timestamps = pd.to_datetime(frame["timestamp"], errors="coerce", utc=True, format="mixed")
    scores = pd.to_numeric(frame["score"], errors="coerce")
    checks = (
        (users.isna() | users.astype(str).str.strip().eq(""), "user_id", "is empty"),
        (timestamps.isna(), "timestamp", "is not a date/time"),
        (scores.isna(), "score", "is not a number"),
        (
            scores.lt(1) | scores.gt(criteria.satisfaction_scale),
            "score",
            f"is outside 1–{criteria.satisfaction_scale:g}",
        ),
    )
    for mask, column, problem in checks:
        if mask.any():
            position = int(mask.to_numpy().argmax())
            value = shown(frame[column].iloc[position])
            raise EvidenceError(f"{where}: row {position + 1}: {column} {value} {problem}")
    return Feedback(
        name=name,
        loaded=loaded,
        users=users.astype(str).str.strip(),
        timestamps=timestamps,
        scores=scores.astype(float),
    )


def users_result(feedback: Feedback, criteria: PilotCriteria) -> CheckResult:
    count = int(feedback.users.nunique())
    expected = f"{criteria.users_min}–{criteria.users_max} users"
    evidence = feedback.loaded.evidence(dataset=feedback.name, distinct_users=count)
    if count < criteria.users_min:
        status, verdict = Status.FAIL, f"fewer than the {criteria.users_min} required"
    elif count > criteria.users_max:
        status, verdict = (
            Status.FAIL,
            f"more than {criteria.users_max}: a pilot is a limited group, not a roll-out",
        )
    else:
        status, verdict = Status.PASS, "within the pilot range"
    reason = f"{count} distinct pilot users gave feedback, {verdict}"
    return CheckResult(USERS, KIND, status, reason, f"{count} users", expected, (evidence,))


def satisfaction_result(feedback: Feedback, criteria: PilotCriteria) -> CheckResult:
    scale = f"{criteria.satisfaction_scale:g}"
    expected = f"≥ {criteria.satisfaction_min:.2f}/{scale}"
    if feedback.scores.empty:
        evidence = feedback.loaded.evidence(dataset=feedback.name, responses=0)
        reason = "no satisfaction scores in the feedback dataset"
        return CheckResult(SATISFACTION, KIND, Status.FAIL, reason, None, expected, (evidence,))
    mean = float(feedback.scores.mean())
    evidence = feedback.loaded.evidence(
        dataset=feedback.name, responses=len(feedback.scores), mean_score=round(mean, 4)
    )
    met = mean >= criteria.satisfaction_min
    verdict = "meets" if met else "is below"
    reason = (
        f"mean satisfaction {mean:.3f}/{scale} over {len(feedback.scores)} responses "
        f"{verdict} the {criteria.satisfaction_min:g} bar"
    )
    status = Status.PASS if met else Status.FAIL
    observed = f"{mean:.2f}/{scale}"
    return CheckResult(SATISFACTION, KIND, status, reason, observed, expected, (evidence,))


def _utc(moment: datetime) -> datetime:
    """Ledger times are UTC; a naive time is taken to be UTC too."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def pilot_weeks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The weeks that must have feedback, per the module's weekly rule."""
    if end <= start:
        return []
    full = int((end - start) / WEEK)
    if full == 0:
        return [(start, end)]
    return [(start + i * WEEK, start + (i + 1) * WEEK) for i in range(full)]


def weekly_result(ctx: CheckContext, feedback: Feedback) -> CheckResult:
    import pandas as pd

    expected = "≥ 1 feedback row in every 7-day week of the pilot"
    now = _utc(ctx.now)
    if ctx.view.entered_at is not None:
        start = _utc(ctx.view.entered_at)
        origin = f"from the pilot start {start.date().isoformat()} (ledger)"
    elif not feedback.timestamps.empty:
        start = feedback.timestamps.min().to_pydatetime()
        origin = (
            f"from the first feedback on {start.date().isoformat()} "
            "(pilot start unknown: no ledger entry opened the stage)"
        )
    else:
        evidence = feedback.loaded.evidence(dataset=feedback.name)
        reason = "no feedback rows and no recorded pilot start: no week shows feedback"
        return CheckResult(WEEKLY, KIND, Status.FAIL, reason, "0 weeks", expected, (evidence,))
    weeks = pilot_weeks(start, now)
    if not weeks:
        return error_result(
            WEEKLY,
            KIND,
            f"the pilot window is empty: it starts {start.isoformat()}, "
            f"after now ({now.isoformat()})",
        )
    missing = []
    for number, (week_start, week_end) in enumerate(weeks, start=1):
        inside = (feedback.timestamps >= pd.Timestamp(week_start)) & (
            feedback.timestamps < pd.Timestamp(week_end)
        )
        if not inside.any():
            span = f"{week_start:%Y-%m-%d %H:%M}–{week_end:%Y-%m-%d %H:%M} UTC"
            missing.append(f"week {number} ({span})")
    covered = len(weeks) - len(missing)
    observed = f"{covered}/{len(weeks)} weeks with feedback"
    evidence = feedback.loaded.evidence(
        dataset=feedback.name,
        window_start=start.isoformat(),
        window_end=now.isoformat(),
        weeks=len(weeks),
        weeks_without_feedback=len(missing),
    )
    if missing:
        reason = f"no feedback in {', '.join(missing)}; weeks counted {origin}"
        return CheckResult(WEEKLY, KIND, Status.FAIL, reason, observed, expected, (evidence,))
    reason = f"feedback in each of {len(weeks)} week(s) counted {origin}"
    return CheckResult(WEEKLY, KIND, Status.PASS, reason, observed, expected, (evidence,))


def kpi_value(ctx: CheckContext, kpi: KpiEvidence) -> tuple[float, LoadedDataset]:
    """The KPI's aggregate over its dataset column; EvidenceError if it cannot be computed."""
    import pandas as pd

    loaded = named_dataset(ctx, kpi.dataset, "evidence.pilot.kpi.dataset")
    where = f"KPI dataset {kpi.dataset!r} ({loaded.uri})"
    if kpi.column not in loaded.frame.columns:
        columns = ", ".join(map(str, loaded.frame.columns))
        raise EvidenceError(f"{where}: no column {kpi.column!r} (columns: {columns})")
    raw = loaded.frame[kpi.column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        position = int(bad.to_numpy().argmax())
        raise EvidenceError(
            f"{where}: row {position + 1}: {kpi.column} {shown(raw.iloc[position])} is not a number"
        )
    values = values.dropna()
    if values.empty:
        raise EvidenceError(f"{where}: column {kpi.column!r} has no values")
    if kpi.aggregate == "mean":
        value = float(values.mean())
    elif kpi.aggregate == "median":
        value = float(values.median())
    elif kpi.aggregate == "sum":
        value = float(values.sum())
    else:  # "last": the last value in file order, i.e. the latest measurement
        value = float(values.iloc[-1])
    return value, loaded


def kpi_result(ctx: CheckContext, criteria: PilotCriteria) -> CheckResult:
    if not criteria.kpi_must_improve:
        return _skipped(KPI, "a KPI improvement is not required by the exit criteria")
    kpi = ctx.usecase.evidence.pilot.kpi
    if kpi is None:
        reason = (
            "business KPI not declared: set evidence.pilot.kpi (name, baseline, direction, "
            "dataset, column)"
        )
        return CheckResult(KPI, KIND, Status.FAIL, reason, None, "a declared business KPI")
    better = "higher" if kpi.direction == "higher" else "lower"
    expected = f"{kpi.name} {'>' if better == 'higher' else '<'} {kpi.baseline:g} (baseline)"
    try:
        value, loaded = kpi_value(ctx, kpi)
    except EvidenceError as e:
        return error_result(KPI, KIND, e.message)
    improved = value > kpi.baseline if better == "higher" else value < kpi.baseline
    evidence = loaded.evidence(
        dataset=kpi.dataset,
        kpi=kpi.name,
        column=kpi.column,
        aggregate=kpi.aggregate,
        value=value,
        baseline=kpi.baseline,
        direction=kpi.direction,
    )
    change = (value - kpi.baseline) / abs(kpi.baseline) if kpi.baseline else None
    change_text = f" ({change:+.1%})" if change is not None else ""
    verdict = "improved on" if improved else "did not improve on"
    reason = (
        f"{kpi.name} ({kpi.aggregate} of {kpi.column}) = {value:g}{change_text} {verdict} "
        f"the baseline {kpi.baseline:g} ({better} is better)"
    )
    status = Status.PASS if improved else Status.FAIL
    observed = f"{value:g} (baseline {kpi.baseline:g}, {better} is better)"
    return CheckResult(KPI, KIND, status, reason, observed, expected, (evidence,))


def critical_issues_result(ctx: CheckContext, criteria: PilotCriteria) -> CheckResult:
    limit = criteria.critical_issues_max
    expected = f"≤ {limit} open critical issues"
    location = ctx.usecase.evidence.issues
    if location is None:
        reason = "no issue tracker export declared: set evidence.issues (CSV, YAML or JSON)"
        return CheckResult(CRITICAL, KIND, Status.FAIL, reason, None, expected)
    try:
        issues, evidence = load_issues(ctx.workspace.evidence_path(location))
    except EvidenceError as e:
        return error_result(CRITICAL, KIND, f"evidence.issues: {e.message}")
    critical = [i for i in issues if i.is_open and i.severity == "critical"]
    observed = f"{len(critical)} open critical"
    if len(critical) > limit:
        names = ", ".join(i.label() for i in critical)
        reason = f"{len(critical)} open critical issue(s), more than {limit} allowed: {names}"
        return CheckResult(CRITICAL, KIND, Status.FAIL, reason, observed, expected, (evidence,))
    reason = f"{len(critical)} open critical issue(s) of {len(issues)} tracked"
    return CheckResult(CRITICAL, KIND, Status.PASS, reason, observed, expected, (evidence,))
