"""The cost-forecast check: unit economics, scaled run-rate, budget verdicts, bad cost data."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gates.canonical import canonical_json, digest_of
from gates.checks import cost_forecast
from gates.checks.interface import CheckContext
from gates.results import CheckResult, Status
from gates.stages import Stage

if TYPE_CHECKING:
    from tests.support.check_context import MakeCtx, WriteRows, WriteText

FIRST_DAY = date(2026, 2, 1)


def spend_rows(costs: list[float]) -> list[dict[str, Any]]:
    return [
        {"date": (FIRST_DAY + timedelta(days=i)).isoformat(), "cost": cost}
        for i, cost in enumerate(costs)
    ]


def only(ctx: CheckContext) -> CheckResult:
    results = cost_forecast.run(ctx)
    assert len(results) == 1, results
    assert results[0].check == "cost:forecast"
    return results[0]


def unit_ctx(make_ctx: MakeCtx, monthly: float, budget: float | None) -> CheckContext:
    """PoC forecasting the Pilot: fixed cost only, so the point forecast is ``monthly``."""
    return make_ctx(
        stage=Stage.POC,
        evidence={"cost": {"unit": {"pilot": {"fixed_monthly": monthly}}}},
        budgets={"pilot": budget} if budget is not None else {},
    )


def pilot_run_rate_ctx(
    make_ctx: MakeCtx, write_rows: WriteRows, costs: list[float], **cost: Any
) -> CheckContext:
    path = write_rows("spend.csv", spend_rows(costs))
    return make_ctx(
        stage=Stage.PILOT,
        evidence={
            "datasets": {"daily_spend": path},
            "cost": {
                "daily_spend": {"pilot": "daily_spend"},
                "users": {"pilot": 40, "production": 400},
            }
            | cost,
        },
        budgets={"production": 20_000},
    )


def test_unit_economics_well_under_budget_passes(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(
        stage=Stage.POC,
        evidence={
            "cost": {
                "unit": {
                    "pilot": {
                        "requests_per_month": 100_000,
                        "cost_per_request": 0.01,
                        "users": 40,
                        "cost_per_user": 5,
                        "fixed_monthly": 300,
                    }
                }
            }
        },
        budgets={"pilot": 5_000},
    )

    result = only(ctx)

    assert result.status is Status.PASS
    assert result.observed.startswith("≈ 1,500 USD/month (unit economics")
    assert result.expected == "≤ 5,000 USD/month (warn at 80%)"
    assert "30% of" in result.reason


def test_forecast_at_85_percent_of_budget_warns(make_ctx: MakeCtx) -> None:
    result = only(unit_ctx(make_ctx, monthly=8_500, budget=10_000))

    assert result.status is Status.WARN
    assert "85% of" in result.reason
    assert "80% alert level" in result.reason


def test_forecast_above_budget_fails(make_ctx: MakeCtx) -> None:
    result = only(unit_ctx(make_ctx, monthly=12_000, budget=10_000))

    assert result.status is Status.FAIL
    assert "exceeds the 10,000 USD pilot budget" in result.reason


def test_forecast_exactly_at_budget_warns_rather_than_fails(make_ctx: MakeCtx) -> None:
    assert only(unit_ctx(make_ctx, monthly=10_000, budget=10_000)).status is Status.WARN


def test_warn_ratio_override_is_honoured(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(
        stage=Stage.POC,
        criteria={"cost": {"budget_stage": "pilot", "warn_ratio": 0.9}},
        evidence={"cost": {"unit": {"pilot": {"fixed_monthly": 8_500}}}},
        budgets={"pilot": 10_000},
    )

    result = only(ctx)

    assert result.status is Status.PASS
    assert result.expected == "≤ 10,000 USD/month (warn at 90%)"


def test_missing_budget_fails_naming_the_stage(make_ctx: MakeCtx) -> None:
    result = only(unit_ctx(make_ctx, monthly=1_000, budget=None))

    assert result.status is Status.FAIL
    assert result.reason.startswith("no budget set for pilot")
    assert "1,000" in result.observed


def test_run_rate_is_scaled_from_pilot_to_production_users(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    costs = [40.0, 45.0, 50.0, 55.0, 60.0, 50.0, 50.0] * 4  # mean 50/day over 28 days
    ctx = pilot_run_rate_ctx(make_ctx, write_rows, costs)

    result = only(ctx)

    # 50/day × 30.4 days × (400 / 40 users) = 15,200 per month, 76% of 20,000.
    assert result.status is Status.PASS
    assert result.observed.startswith("≈ 15,200 USD/month (run-rate, range ")
    assert "×10 users (40 → 400)" in result.observed
    assert "76% of" in result.reason
    inputs = next(e for e in result.evidence if e.kind == "cost-inputs")
    assert inputs.details["daily_spend"]["days"] == 28
    assert inputs.details["daily_spend"]["mean_daily"] == 50.0
    (forecast,) = inputs.details["forecasts"]
    assert forecast["low"] < forecast["point"] < forecast["high"]


def test_run_rate_without_user_counts_is_not_scaled(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    ctx = pilot_run_rate_ctx(make_ctx, write_rows, [100.0] * 10, users={})

    result = only(ctx)

    assert result.observed.startswith("≈ 3,040 USD/month (run-rate)")


def test_both_methods_are_reported_and_the_higher_is_used(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    ctx = pilot_run_rate_ctx(
        make_ctx, write_rows, [50.0] * 14, unit={"production": {"fixed_monthly": 18_000}}
    )

    result = only(ctx)

    assert result.observed.startswith("≈ 18,000 USD/month (unit economics")
    assert "run-rate ≈ 15,200" in result.observed
    assert "higher of unit economics and run-rate" in result.reason
    assert result.status is Status.WARN  # 90% of 20,000


def test_rows_of_the_same_day_are_added_up(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    rows = []
    for row in spend_rows([30.0] * 7):
        rows += [{**row, "service": "llm"}, {**row, "cost": 20.0, "service": "vector-db"}]
    path = write_rows("spend.csv", rows)
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={"datasets": {"spend": path}, "cost": {"daily_spend": {"pilot": "spend"}}},
        budgets={"production": 5_000},
    )

    result = only(ctx)

    assert result.observed.startswith("≈ 1,520 USD/month")  # 50/day × 30.4


def test_evidence_binds_the_dataset_bytes_and_the_digested_inputs(
    make_ctx: MakeCtx, write_rows: WriteRows, tmp_path: Path
) -> None:
    ctx = pilot_run_rate_ctx(make_ctx, write_rows, [50.0] * 14)

    result = only(ctx)

    dataset, inputs = result.evidence
    expected = hashlib.sha256((tmp_path / "data/spend.csv").read_bytes()).hexdigest()
    assert dataset.kind == "dataset" and dataset.digest == f"sha256:{expected}"
    assert inputs.kind == "cost-inputs"
    assert inputs.digest == digest_of(inputs.details)
    assert inputs.details["daily_spend"]["digest"] == f"sha256:{expected}"
    assert inputs.details["budget"] == 20_000
    canonical_json(result.to_json())


def test_no_cost_inputs_is_error_saying_what_to_set(make_ctx: MakeCtx) -> None:
    result = only(make_ctx(stage=Stage.POC, budgets={"pilot": 1_000}))

    assert result.status is Status.ERROR
    assert result.reason == (
        "no cost inputs: set evidence.cost.unit.pilot or evidence.cost.daily_spend.poc"
    )


def test_non_numeric_cost_is_error_naming_dataset_and_row(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    costs: list[Any] = [50.0] * 10
    costs[3] = "about fifty"
    result = only(pilot_run_rate_ctx(make_ctx, write_rows, costs))

    assert result.status is Status.ERROR
    assert "daily spend dataset 'daily_spend'" in result.reason
    assert "row 4: cost 'about fifty' is not a number" in result.reason


def test_negative_cost_is_error(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    result = only(pilot_run_rate_ctx(make_ctx, write_rows, [50.0] * 9 + [-5.0]))

    assert result.status is Status.ERROR
    assert "row 10: cost -5 is negative" in result.reason


def test_unparseable_date_is_error(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    rows = spend_rows([50.0] * 8)
    rows[2]["date"] = "last tuesday"
    path = write_rows("spend.csv", rows)
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={"datasets": {"spend": path}, "cost": {"daily_spend": {"pilot": "spend"}}},
        budgets={"production": 5_000},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "row 3: date 'last tuesday' is not a date" in result.reason


def test_missing_cost_column_is_error(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    path = write_rows("spend.csv", [{"date": "2026-02-01", "amount": 3}])
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={"datasets": {"spend": path}, "cost": {"daily_spend": {"pilot": "spend"}}},
        budgets={"production": 5_000},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "missing column(s) cost" in result.reason


def test_fewer_than_seven_days_is_error(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    result = only(pilot_run_rate_ctx(make_ctx, write_rows, [50.0] * 6))

    assert result.status is Status.ERROR
    assert "6 day(s) of spend; a run-rate needs at least 7" in result.reason


def test_spend_file_missing_is_error_naming_dataset(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={
            "datasets": {"spend": "data/nowhere.csv"},
            "cost": {"daily_spend": {"pilot": "spend"}},
        },
        budgets={"production": 5_000},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "daily spend dataset 'spend'" in result.reason
    assert "file not found" in result.reason


def test_spend_dataset_not_declared_is_error(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={"cost": {"daily_spend": {"pilot": "spend"}}},
        budgets={"production": 1},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "evidence.cost.daily_spend.pilot: names dataset 'spend'" in result.reason


def test_spend_file_of_the_wrong_type_is_error(make_ctx: MakeCtx, write_text: WriteText) -> None:
    path = write_text("spend.txt", "date,cost\n2026-02-01,5\n")
    ctx = make_ctx(
        stage=Stage.PILOT,
        evidence={"datasets": {"spend": path}, "cost": {"daily_spend": {"pilot": "spend"}}},
        budgets={"production": 5_000},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "unsupported dataset format '.txt'" in result.reason


def test_zero_users_in_the_current_stage_cannot_scale_and_is_error(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    ctx = pilot_run_rate_ctx(
        make_ctx, write_rows, [50.0] * 7, users={"pilot": 0, "production": 400}
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "evidence.cost.users.pilot" in result.reason


def test_stage_without_cost_criteria_yields_no_results(make_ctx: MakeCtx) -> None:
    assert cost_forecast.run(make_ctx(stage=Stage.EXPLORE)) == []


@pytest.mark.parametrize("budget_stage", ["nirvana"])
def test_unknown_budget_stage_is_error(make_ctx: MakeCtx, budget_stage: str) -> None:
    ctx = make_ctx(stage=Stage.POC, criteria={"cost": {"budget_stage": budget_stage}})

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "criteria.poc.cost.budget_stage" in result.reason
