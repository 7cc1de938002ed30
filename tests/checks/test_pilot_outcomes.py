"""The pilot-outcomes check: users, satisfaction, weekly feedback, KPI and critical issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from gates.checks import pilot_outcomes
from gates.checks.interface import CheckContext
from gates.results import CheckResult, Status
from gates.stages import Stage

if TYPE_CHECKING:
    from tests.support.check_context import MakeCtx, WriteRows, WriteText

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
START = NOW - timedelta(weeks=6)
ALL = [
    "pilot:users",
    "pilot:satisfaction",
    "pilot:weekly-feedback",
    "pilot:kpi",
    "pilot:critical-issues",
]


def feedback_rows(
    users: int = 20, weeks: int = 6, scores: tuple[int, ...] = (4, 4, 4, 4, 5), skip_week: int = 0
) -> list[dict[str, Any]]:
    """One row per user per week (skipping week ``skip_week``), scores cycling ``scores``."""
    rows = []
    for week in range(1, weeks + 1):
        if week == skip_week:
            continue
        for user in range(users):
            moment = START + timedelta(weeks=week - 1, days=1, hours=user % 48)
            score = scores[(week * users + user) % len(scores)]
            rows.append(
                {"user_id": f"u{user:03d}", "timestamp": moment.isoformat(), "score": score}
            )
    return rows


def issues(*extra: dict[str, str]) -> list[dict[str, str]]:
    base = {"kind": "issue", "severity": "minor", "status": "open"}
    return [
        {"id": "ISS-1", "title": "Typo in greeting", **base},
        {
            "id": "ISS-2",
            "title": "Timeout on long tickets",
            **base,
            "severity": "critical",
            "status": "closed",
        },
        *extra,
    ]


def pilot_ctx(
    make_ctx: MakeCtx,
    write_rows: WriteRows,
    *,
    feedback: list[dict[str, Any]] | None = None,
    kpi: dict[str, Any] | bool | None = True,
    issue_rows: list[dict[str, str]] | None = None,
    issues_file: str | None = "issues.yaml",
    extra_datasets: dict[str, str] | None = None,
    criteria: dict[str, Any] | None = None,
    entered_at: datetime | None = START,
) -> CheckContext:
    datasets = {"feedback": write_rows("feedback.csv", feedback or feedback_rows())}
    datasets.update(extra_datasets or {})
    evidence: dict[str, Any] = {"datasets": datasets}
    pilot: dict[str, Any] = {"feedback": "feedback"}
    if kpi is True:
        resolution = [{"ticket": i, "minutes": 30 + i % 5} for i in range(40)]  # mean 32
        datasets["resolution"] = write_rows("resolution.csv", resolution)
        pilot["kpi"] = {
            "name": "minutes to resolve",
            "baseline": 45,
            "direction": "lower",
            "dataset": "resolution",
            "column": "minutes",
        }
    elif isinstance(kpi, dict):
        pilot["kpi"] = kpi
    evidence["pilot"] = pilot
    if issues_file is not None:
        rows = issue_rows if issue_rows is not None else issues()
        evidence["issues"] = write_rows(issues_file, rows)
    return make_ctx(
        stage=Stage.PILOT,
        criteria=criteria,
        evidence=evidence,
        entered_at=entered_at,
        now=NOW,
    )


def by_name(ctx: CheckContext) -> dict[str, CheckResult]:
    results = pilot_outcomes.run(ctx)
    assert [r.check for r in results] == ALL
    return {r.check: r for r in results}


def test_successful_pilot_passes_all_five_outcomes(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    results = by_name(pilot_ctx(make_ctx, write_rows))

    assert {name: r.status for name, r in results.items()} == dict.fromkeys(ALL, Status.PASS)
    assert results["pilot:users"].observed == "20 users"
    assert results["pilot:users"].expected == "10–50 users"
    assert results["pilot:satisfaction"].observed == "4.20/5"
    assert results["pilot:weekly-feedback"].observed == "6/6 weeks with feedback"
    assert "minutes to resolve" in results["pilot:kpi"].reason
    assert all(r.evidence and r.evidence[0].digest for r in results.values())


@pytest.mark.parametrize(
    ("scores", "status", "observed"),
    [((4, 4, 3, 4, 4), Status.FAIL, "3.80/5"), ((4, 4, 4, 4, 5), Status.PASS, "4.20/5")],
)
def test_satisfaction_below_four_fails_and_above_passes(
    make_ctx: MakeCtx,
    write_rows: WriteRows,
    scores: tuple[int, ...],
    status: Status,
    observed: str,
) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, feedback=feedback_rows(scores=scores))

    result = by_name(ctx)["pilot:satisfaction"]

    assert result.status is status
    assert result.observed == observed
    assert result.expected == "≥ 4.00/5"


@pytest.mark.parametrize(
    ("users", "status"),
    [(9, Status.FAIL), (10, Status.PASS), (50, Status.PASS), (51, Status.FAIL)],
)
def test_pilot_user_count_must_be_between_10_and_50(
    make_ctx: MakeCtx, write_rows: WriteRows, users: int, status: Status
) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, feedback=feedback_rows(users=users))

    result = by_name(ctx)["pilot:users"]

    assert result.status is status
    assert result.observed == f"{users} users"


def test_nine_users_fails_saying_too_few(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    result = by_name(pilot_ctx(make_ctx, write_rows, feedback=feedback_rows(users=9)))

    assert result["pilot:users"].status is Status.FAIL
    assert "9 distinct pilot users" in result["pilot:users"].reason
    assert "fewer than the 10 required" in result["pilot:users"].reason


def test_week_without_feedback_fails_naming_the_week(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, feedback=feedback_rows(skip_week=3))

    result = by_name(ctx)["pilot:weekly-feedback"]

    assert result.status is Status.FAIL
    week_start, week_end = START + timedelta(weeks=2), START + timedelta(weeks=3)
    assert f"no feedback in week 3 ({week_start:%Y-%m-%d %H:%M}–{week_end:%Y-%m-%d %H:%M} UTC)" in (
        result.reason
    )
    assert result.observed == "5/6 weeks with feedback"


def test_silence_since_the_last_feedback_fails_once_a_full_week_has_passed(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, feedback=feedback_rows(weeks=4))

    result = by_name(ctx)["pilot:weekly-feedback"]

    assert result.status is Status.FAIL
    assert "week 5" in result.reason and "week 6" in result.reason


def test_unfinished_final_week_is_not_judged(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    # Six full weeks of feedback, then three days of a seventh week with none yet.
    ctx = pilot_ctx(make_ctx, write_rows, entered_at=START - timedelta(days=3))

    result = by_name(ctx)["pilot:weekly-feedback"]

    assert result.status is Status.PASS
    assert result.observed == "6/6 weeks with feedback"


def test_unknown_pilot_start_counts_weeks_from_the_first_feedback(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, entered_at=None)

    result = by_name(ctx)["pilot:weekly-feedback"]

    assert "pilot start unknown" in result.reason
    assert "first feedback on" in result.reason
    assert result.status is Status.PASS


def test_weekly_feedback_not_required_is_skipped(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    ctx = pilot_ctx(
        make_ctx,
        write_rows,
        feedback=feedback_rows(skip_week=2),
        criteria={"pilot": {"weekly_feedback": False}},
    )

    assert by_name(ctx)["pilot:weekly-feedback"].status is Status.SKIPPED


def test_undeclared_kpi_fails(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    result = by_name(pilot_ctx(make_ctx, write_rows, kpi=None))["pilot:kpi"]

    assert result.status is Status.FAIL
    assert result.reason.startswith("business KPI not declared")


def test_kpi_that_did_not_improve_fails(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    path = write_rows("csat.csv", [{"week": w, "deflection": 0.20} for w in range(6)])
    kpi = {
        "name": "ticket deflection",
        "baseline": 0.25,
        "direction": "higher",
        "dataset": "csat",
        "column": "deflection",
        "aggregate": "last",
    }
    ctx = pilot_ctx(make_ctx, write_rows, kpi=kpi, extra_datasets={"csat": path})

    result = by_name(ctx)["pilot:kpi"]

    assert result.status is Status.FAIL
    assert "did not improve on the baseline 0.25 (higher is better)" in result.reason
    assert result.evidence[0].details["value"] == pytest.approx(0.20)


def test_kpi_column_missing_is_error(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    kpi = {"name": "m", "baseline": 1, "direction": "lower", "dataset": "feedback", "column": "x"}

    result = by_name(pilot_ctx(make_ctx, write_rows, kpi=kpi))["pilot:kpi"]

    assert result.status is Status.ERROR
    assert "no column 'x'" in result.reason


def test_open_critical_issue_fails_naming_it(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    rows = issues(
        {
            "id": "ISS-9",
            "title": "Leaks PII",
            "kind": "issue",
            "severity": "critical",
            "status": "open",
        }
    )

    result = by_name(pilot_ctx(make_ctx, write_rows, issue_rows=rows))["pilot:critical-issues"]

    assert result.status is Status.FAIL
    assert "ISS-9 (Leaks PII)" in result.reason
    assert "ISS-2" not in result.reason  # closed
    assert result.observed == "1 open critical"


def test_issues_export_in_json_is_read_too(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, issues_file="issues.json")

    result = by_name(ctx)["pilot:critical-issues"]

    assert result.status is Status.PASS
    assert result.evidence[0].uri.endswith("issues.json")


def test_unknown_issue_severity_is_error_naming_row_and_field(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    rows = issues(
        {"id": "ISS-3", "title": "Slow", "kind": "issue", "severity": "blocking", "status": "open"}
    )

    result = by_name(pilot_ctx(make_ctx, write_rows, issue_rows=rows))["pilot:critical-issues"]

    assert result.status is Status.ERROR
    assert "row 3 (id ISS-3): field 'severity': 'blocking' is not one of" in result.reason


def test_no_issue_export_declared_fails(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    ctx = pilot_ctx(make_ctx, write_rows, issues_file=None)

    result = by_name(ctx)["pilot:critical-issues"]

    assert result.status is Status.FAIL
    assert result.reason.startswith("no issue tracker export declared")


def test_missing_feedback_file_makes_feedback_outcomes_errors(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={"datasets": {"feedback": "data/absent.csv"}},
        entered_at=START,
        now=NOW,
    )

    results = by_name(ctx)

    for name in ("pilot:users", "pilot:satisfaction", "pilot:weekly-feedback"):
        assert results[name].status is Status.ERROR
        assert "evidence.pilot.feedback (dataset 'feedback')" in results[name].reason
        assert "file not found" in results[name].reason


def test_non_numeric_score_is_error_naming_the_row(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    rows = feedback_rows()
    rows[4]["score"] = "great"

    results = by_name(pilot_ctx(make_ctx, write_rows, feedback=rows))

    assert results["pilot:satisfaction"].status is Status.ERROR
    assert "row 5: score 'great' is not a number" in results["pilot:satisfaction"].reason


def test_score_outside_the_scale_is_error(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    rows = feedback_rows()
    rows[0]["score"] = 6

    result = by_name(pilot_ctx(make_ctx, write_rows, feedback=rows))["pilot:users"]

    assert result.status is Status.ERROR
    assert "row 1: score 6 is outside 1–5" in result.reason


def test_feedback_without_a_score_column_is_error(make_ctx: MakeCtx, write_text: WriteText) -> None:
    path = write_text("feedback.csv", "user_id,timestamp,rating\nu1,2026-03-01T10:00:00Z,5\n")
    ctx = make_ctx(stage=Stage.PILOT, evidence={"datasets": {"feedback": path}}, now=NOW)

    result = by_name(ctx)["pilot:satisfaction"]

    assert result.status is Status.ERROR
    assert "missing column(s) score" in result.reason


def test_stage_without_pilot_criteria_yields_no_results(make_ctx: MakeCtx) -> None:
    assert pilot_outcomes.run(make_ctx(stage=Stage.POC)) == []
