"""The monthly operations report: a month in Production, made from the monitoring rows and
the signed nightly re-checks of that month.

One World is built for the module: ``svc`` enters Production on 1 July 2026, its
monitoring dataset has a row a day from mid-June to early August (an incident, an
error spike, a week of low quality, one slow day, spend passing the 80 % mark), and
the nightly re-check runs on six nights, alerting a real webhook receiver. Every figure
the tests expect is computed here from those rows and entries, not written down.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gates.errors import ConfigError, StagegateError
from gates.recheck.monthly import MonthlyReport, monthly_report
from gates.recheck.monthly_figures import Month, last_complete_month
from gates.stages import Stage
from tests.support.cli import run
from tests.support.presets import add_monitored, recheck_world
from tests.support.webhook import serve_receiver
from tests.support.world import World

JULY = Month(2026, 7)
BUDGET = 30000.0  # PRODUCTION_SPEC's production budget
INCIDENT_DAY, SPIKE_DAY, SLOW_DAY = 20, 20, 21
LOW_QUALITY = range(13, 20)  # 13 to 19 July: quality 0.80 against a floor of 0.855
NIGHTS = (5, 12, 19, 20, 26)
#: ``late`` enters Production on 16 July, with the same monitoring rows since June.
LATE_START = datetime(
    2026, 7, 16, 9, tzinfo=UTC
)  # July nights the re-check runs (21:00 UTC); and 2 August


def _row(day: date) -> dict[str, object]:
    july = day.month == 7
    n = day.day
    return {
        "date": day.isoformat(),
        "availability": 0.9990 if n % 7 == 3 else 0.9996,
        "latency_p50_ms": 200.0,
        "latency_p95_ms": 1200.0 if july and n == SLOW_DAY else 700.0,
        "latency_p99_ms": 1500.0,
        "error_rate": 0.02 if july and n == SPIKE_DAY else 0.002,
        "quality_score": 0.80 if july and n in LOW_QUALITY else 0.90,
        "cost": 900.0 if july else 400.0,
        "major_incidents": 1 if july and n == INCIDENT_DAY else 0,
        "requests": 30000 if n % 2 else 10000,
    }


ROWS = [_row(date(2026, 6, 15) + timedelta(days=i)) for i in range(50)]  # 15 June to 3 August
JULY_ROWS = [r for r in ROWS if str(r["date"]).startswith("2026-07")]


@dataclass
class Built:
    world: World
    alerts_received: int

    def at_july(self, day: int, hour: int = 21) -> datetime:
        return datetime(2026, 7, day, hour, tzinfo=UTC)


def _write_rows(world: World, rows: list[dict[str, object]], usecase: str = "svc") -> None:
    path = world.root / "data" / f"{usecase}-monitoring.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    world = recheck_world(tmp_path_factory.mktemp("monthly") / "ws")
    add_monitored(world, "svc")
    add_monitored(world, "bot")
    assert world.at(world.advance("svc", Stage.PRODUCTION)) == datetime(2026, 7, 1, 9, tzinfo=UTC)
    world.advance("bot", Stage.POC)
    add_monitored(world, "late")
    assert world.at(world.advance("late", Stage.PRODUCTION, start_day=15)) == LATE_START
    _write_rows(world, ROWS)
    _write_rows(world, ROWS, "late")
    with serve_receiver() as receiver:
        world.append_settings(f'[alerts]\nwebhook_url = "{receiver.url}"\n')
        nights = [datetime(2026, 7, n, 21, tzinfo=UTC) for n in NIGHTS]
        for night in [*nights, datetime(2026, 8, 2, 21, tzinfo=UTC)]:
            world.recheck("svc", (night - world.t0).total_seconds() / 86400, notify=True)
        yield Built(world, len(receiver.requests))


@pytest.fixture(scope="module")
def july(built: Built) -> MonthlyReport:
    return monthly_report(built.world.session, "svc", JULY, datetime(2026, 8, 5, tzinfo=UTC))


def _summary(report: MonthlyReport, key: str):  # type: ignore[no-untyped-def]
    return next(j for j in report.summary if j.key == key)


# --- figures computed from the month's rows ---------------------------------------------


def test_availability_is_the_request_weighted_mean_of_the_months_rows(july: MonthlyReport) -> None:
    weighted = sum(float(r["availability"]) * float(r["requests"]) for r in JULY_ROWS) / sum(  # type: ignore[arg-type]
        float(r["requests"])
        for r in JULY_ROWS  # type: ignore[arg-type]
    )
    availability = _summary(july, "availability")
    assert availability.met is (weighted >= 0.999)
    assert july.to_json()["observations"]["count"] == len(JULY_ROWS) == 31
    daily = {d.day: d.availability for d in july.days}
    assert daily[date(2026, 7, 3)] == pytest.approx(0.9990)
    assert availability.value == f"{weighted * 100:.3f}".rstrip("0").rstrip(".") + "%"


def test_a_slow_day_breaks_the_p95_threshold_and_is_named_as_the_worst(
    july: MonthlyReport,
) -> None:
    p95 = _summary(july, "latency-p95")
    assert p95.met is False
    assert f"worst 1200 ms on 2026-07-{SLOW_DAY}" in p95.detail
    assert "over the threshold on 1 day(s)" in p95.detail
    assert _summary(july, "latency-p50").met is True


def test_the_error_spike_day_is_found_and_fails_the_error_rate(july: MonthlyReport) -> None:
    assert july.error_spikes == (date(2026, 7, SPIKE_DAY),)
    assert _summary(july, "error-rate").met is False


def test_incidents_are_counted_per_day_and_over_the_zero_allowed(july: MonthlyReport) -> None:
    expected = [
        (date.fromisoformat(str(r["date"])), r["major_incidents"])
        for r in JULY_ROWS
        if r["major_incidents"]
    ]
    assert list(july.incident_days) == expected
    incidents = _summary(july, "major-incidents")
    assert incidents.value == str(sum(n for _, n in expected)) and incidents.met is False  # type: ignore[misc]


def test_quality_fails_exactly_the_iso_weeks_with_the_low_days(july: MonthlyReport) -> None:
    low_weeks = {date(2026, 7, n).isocalendar()[:2] for n in LOW_QUALITY}
    for week in july.weeks:
        days = [
            float(r["quality_score"])  # type: ignore[arg-type]
            for r in JULY_ROWS
            if week.first <= date.fromisoformat(str(r["date"])) <= week.last
        ]
        assert week.quality == pytest.approx(statistics.fmean(days))
        assert week.met is (week.first.isocalendar()[:2] not in low_weeks), week.label
    assert july.weeks[0].first == date(2026, 7, 1) and july.weeks[-1].last == date(2026, 7, 31)
    assert _summary(july, "quality").met is False


def test_cost_is_the_months_spend_against_the_locked_budget_and_its_alert_mark(
    july: MonthlyReport,
) -> None:
    spent = sum(float(r["cost"]) for r in JULY_ROWS)  # type: ignore[arg-type]
    running, crossed = 0.0, None
    for r in JULY_ROWS:
        running += float(r["cost"])  # type: ignore[arg-type]
        if crossed is None and running >= 0.8 * BUDGET:
            crossed = date.fromisoformat(str(r["date"]))
    cost = july.cost
    assert (cost.spent, cost.total, cost.budget, cost.filled_days) == (spent, spent, BUDGET, 0)
    assert cost.warn_crossed == crossed and cost.budget_crossed is None
    judged = _summary(july, "cost")
    assert judged.met is True and judged.status == "warning"  # within budget, past 80 %
    assert judged.value == f"{spent:,.0f} USD ({spent / BUDGET:.1%})".replace(".0%", "%")


def test_rows_outside_the_month_are_left_out(july: MonthlyReport) -> None:
    assert [d.day for d in july.days] == JULY.dates()
    assert july.requests == sum(float(r["requests"]) for r in JULY_ROWS)  # type: ignore[arg-type]


def test_a_use_case_entering_production_mid_month_is_reported_from_that_day(
    built: Built,
) -> None:
    report = monthly_report(built.world.session, "late", JULY, datetime(2026, 8, 5, tzinfo=UTC))
    production = [r for r in JULY_ROWS if str(r["date"]) >= LATE_START.date().isoformat()]
    assert [d.day.isoformat() for d in report.days] == [r["date"] for r in production]
    assert len(report.production_days) == 16 and report.spans[0].start == LATE_START
    spent = sum(float(r["cost"]) for r in production)  # type: ignore[arg-type]
    run_rate = statistics.fmean(float(r["cost"]) for r in production[-7:])  # type: ignore[arg-type]
    assert report.cost.spent == spent and report.cost.filled_days == 31 - 16
    assert report.cost.total == pytest.approx(spent + 15 * run_rate)
    moved = [
        (e.sequence, e.predicate.stage.after)
        for e in built.world.session.ledger.state("late").history
        if e.predicate.time.month == 7 and e.predicate.stage.before != e.predicate.stage.after
    ]
    assert [(m.sequence, m.after) for m in report.moves] == moved
    assert moved[-1][1] == "production"


# --- the signed re-checks of the month ----------------------------------------------------


def test_every_signed_recheck_of_the_month_is_listed_with_its_verdict_and_alert(
    built: Built, july: MonthlyReport
) -> None:
    entries = [
        e
        for e in built.world.session.ledger.state("svc").history
        if e.predicate.recheck is not None
    ]
    in_july = [e for e in entries if e.predicate.time.month == 7]
    assert len(entries) == len(NIGHTS) + 1 and len(in_july) == len(NIGHTS)
    assert [(n.sequence, n.verdict, n.alert) for n in july.nights] == [
        (
            e.sequence,
            e.predicate.recheck.verdict,  # type: ignore[union-attr]
            e.predicate.recheck.alert.status if e.predicate.recheck.alert else "none",  # type: ignore[union-attr]
        )
        for e in in_july
    ]
    incident_night = next(n for n in july.nights if n.time.day == INCIDENT_DAY)
    assert incident_night.verdict == "fail"
    assert any("incident" in p and p.endswith("fail") for p in incident_night.problems)
    sent_in_july = len(july.alerts_sent)
    assert 1 <= sent_in_july <= built.alerts_received


def test_a_month_in_progress_projects_cost_at_the_run_rate(built: Built) -> None:
    now = built.at_july(10, hour=12)
    report = monthly_report(built.world.session, "svc", JULY, now)
    observed = [r for r in JULY_ROWS if date.fromisoformat(str(r["date"])) <= now.date()]
    assert report.in_progress and len(report.days) == len(observed) == 10
    assert [n.time.day for n in report.nights] == [5]
    run_rate = statistics.fmean(float(r["cost"]) for r in observed[-7:])  # type: ignore[arg-type]
    assert report.cost.run_rate == pytest.approx(run_rate)
    assert report.cost.total == pytest.approx(9 * 0 + 10 * 900 + 21 * run_rate)


# --- refusals: one clear message ------------------------------------------------------------


def test_a_month_before_production_is_refused_saying_when_it_was_in_production(
    built: Built,
) -> None:
    with pytest.raises(StagegateError, match="was not in Production in 2026-06") as refused:
        monthly_report(built.world.session, "svc", Month(2026, 6), built.at_july(10))
    assert "in Production from 2026-07-01 on" in refused.value.message


def test_a_use_case_never_in_production_is_refused_with_its_stage(built: Built) -> None:
    with pytest.raises(StagegateError, match=r"has not reached Production \(stage: poc\)"):
        monthly_report(built.world.session, "bot", JULY, built.at_july(31))


def test_a_month_not_begun_is_refused(built: Built) -> None:
    with pytest.raises(ConfigError, match="2026-09 has not begun"):
        monthly_report(built.world.session, "svc", Month(2026, 9), built.at_july(31))


def test_a_month_in_production_without_monitoring_rows_says_there_is_no_data(
    built: Built, tmp_path: Path
) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(built.world.root, copy)
    rows = [r for r in ROWS if not str(r["date"]).startswith("2026-07")]
    with (copy / "data" / "svc-monitoring.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run("--workspace", str(copy), "report", "monthly", "svc", "--month", "2026-07")
    assert result.returncode == 2, result.stdout
    assert (
        "no monitoring data for its days in Production in 2026-07" in result.stderr
        and "svc-monitoring.csv" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("month", "said"),
    [("2026-13", "month 13 is not 01 to 12"), ("July", "expected a month as YYYY-MM")],
)
def test_a_malformed_month_is_exit_2_naming_the_option(built: Built, month: str, said: str) -> None:
    result = run("--workspace", str(built.world.root), "report", "monthly", "svc", "--month", month)
    assert result.returncode == 2
    assert "--month" in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_use_case_is_exit_2_naming_it(built: Built) -> None:
    result = run(
        "--workspace", str(built.world.root), "report", "monthly", "scv", "--month", "2026-07"
    )
    assert result.returncode == 2
    assert "scv" in result.stderr and "svc" in result.stderr  # and the one it may mean
    assert "Traceback" not in result.stderr


def test_a_tampered_recheck_entry_is_named_and_no_report_is_made(
    built: Built, tmp_path: Path
) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(built.world.root, copy)
    night = next(
        e.sequence
        for e in built.world.session.ledger.state("svc").history
        if e.predicate.recheck is not None
    )
    stored = copy / "ledger" / "chains" / "svc" / f"{night:012d}.dsse.json"
    envelope = json.loads(stored.read_text())
    envelope["payload"] = envelope["payload"][:-8] + (
        "A" * 8 if envelope["payload"][-8:] != "A" * 8 else "B" * 8
    )
    stored.write_text(json.dumps(envelope))
    out = tmp_path / "out"
    result = run(
        "--workspace", str(copy), "report", "monthly", "svc", "--month", "2026-07",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 2
    assert f"svc#{night}" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


# --- the command: HTML and JSON ---------------------------------------------------------------


def test_report_monthly_writes_a_standalone_page_with_charts_and_the_same_json(
    built: Built, july: MonthlyReport, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    result = run(
        "--workspace", str(built.world.root), "report", "monthly", "svc", "--month", "2026-07",
        "--at", "2026-08-05T00:00:00Z", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    html = out / "monthly-report-svc-2026-07.html"
    filed = out / "monthly-report-svc-2026-07.json"
    assert printed.pop("files") == {"html": str(html), "json": str(filed)}
    assert printed == json.loads(filed.read_text()) == json.loads(json.dumps(july.to_json()))
    assert [s["status"] for s in printed["summary"]] == [j.status for j in july.summary]
    page = html.read_text()
    for chart in ("month-availability", "month-latency", "month-error-rate", "month-quality",
                  "month-cost"):  # fmt: skip
        assert f"id='{chart}-title'" in page, chart
    assert "<script" not in page and "stylesheet" not in page  # stands alone: styles inline
    links = set(re.findall(r'(?:href|src)="([^"]*)"', page))
    assert links <= {"#main", "data:,", html.name}, links
    for night in july.nights:
        assert f"#{night.sequence}" in page
    assert "2026-07-20" in page and "Monthly operations report" in page


def test_report_monthly_prints_the_criteria_as_a_table(built: Built) -> None:
    result = run(
        "--workspace", str(built.world.root), "report", "monthly", "svc", "--month", "2026-07",
        "--at", "2026-08-05T00:00:00Z",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for label in ("Availability", "Latency P95", "Error rate", "Major incidents", "Cost"):
        assert label in result.stdout
    assert "not met" in result.stdout and "signed re-checks: 5" in result.stdout


def test_the_default_month_is_the_last_complete_one() -> None:
    assert last_complete_month(datetime(2026, 8, 5, tzinfo=UTC)) == JULY
    assert last_complete_month(datetime(2027, 1, 1, tzinfo=UTC)) == Month(2026, 12)
