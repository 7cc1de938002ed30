"""Check kind ``cost-forecast``: forecast a stage's monthly cost and hold it to its budget.

Two methods, each stated in the result: unit economics declared in the spec
(``evidence.cost.unit.<stage>``) and a run-rate from observed daily spend
(``evidence.cost.daily_spend``), scaled by the expected growth in users. When both are
available the higher forecast is used: a cost overrun is the risk being mitigated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gates.canonical import digest_of
from gates.checks.interface import CheckContext, error_result
from gates.errors import EvidenceError
from gates.evidence.datasets import LoadedDataset, load_dataset
from gates.results import CheckResult, Evidence, Status
from gates.stages import Stage, parse_stage

if TYPE_CHECKING:
    import pandas as pd

KIND = "cost-forecast"
CHECK = "cost:forecast"
#: Average days per month (365.25 / 12, rounded) used to turn daily spend into monthly.
DAYS_PER_MONTH = 30.4
#: Fewer days than this is too little history for a run-rate.
MIN_DAYS = 7
#: Columns of a daily spend dataset (``evidence.cost.daily_spend.<stage>``).
DAILY_SPEND_COLUMNS = ("date", "cost")


@dataclass(frozen=True)
class Forecast:
    """A monthly cost forecast by one method, with the range it is believed to lie in."""

    method: str
    point: float
    low: float
    high: float
    note: str = ""

    def summary(self) -> str:
        spread = "" if self.low == self.high else f", range {self.low:,.0f}–{self.high:,.0f}"
        note = f", {self.note}" if self.note else ""
        return f"{self.method}{spread}{note}"

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "point": round(self.point, 2),
            "low": round(self.low, 2),
            "high": round(self.high, 2),
            "note": self.note,
        }


@dataclass(frozen=True)
class DailySpend:
    """Daily spend totals parsed from a dataset (rows of one date are summed)."""

    dataset: str
    loaded: LoadedDataset
    totals: pd.Series

    @property
    def days(self) -> int:
        return len(self.totals)


def run(ctx: CheckContext) -> list[CheckResult]:
    criteria = ctx.criteria.cost
    if criteria is None:
        return []
    try:
        budget_stage = parse_stage(criteria.budget_stage)
    except ValueError as e:
        return [error_result(CHECK, KIND, f"criteria.{ctx.stage.value}.cost.budget_stage: {e}")]
    cost = ctx.usecase.evidence.cost
    try:
        spend = load_daily_spend(ctx) if ctx.stage.value in cost.daily_spend else None
        forecasts = forecasts_for(ctx, budget_stage, spend)
    except EvidenceError as e:
        return [error_result(CHECK, KIND, e.message)]
    evidence: list[Evidence] = []
    if spend is not None:
        evidence.append(
            spend.loaded.evidence(dataset=spend.dataset, days=spend.days, role="daily spend")
        )
    if not forecasts:
        reason = (
            f"no cost inputs: set evidence.cost.unit.{budget_stage.value} "
            f"or evidence.cost.daily_spend.{ctx.stage.value}"
        )
        return [error_result(CHECK, KIND, reason, *evidence)]

    chosen = max(forecasts, key=lambda f: f.point)
    others = [f for f in forecasts if f is not chosen]
    currency = ctx.criteria.currency
    observed = f"≈ {chosen.point:,.0f} {currency}/month ({chosen.summary()}"
    observed += "".join(f"; {f.method} ≈ {f.point:,.0f}" for f in others) + ")"
    budget = ctx.criteria.budget_for(budget_stage.value)
    evidence.append(
        _inputs_evidence(ctx, budget_stage, budget, criteria.warn_ratio, spend, forecasts, chosen)
    )
    used = f" (higher of {' and '.join(f.method for f in forecasts)})" if others else ""
    forecast_text = (
        f"{budget_stage.label} cost forecast ≈ {chosen.point:,.0f} {currency}/month{used}"
    )

    if budget is None:
        reason = (
            f"no budget set for {budget_stage.value}: {forecast_text} cannot be held to a "
            f"budget; a per-stage budget is required (set budgets.{budget_stage.value})"
        )
        return [
            CheckResult(
                CHECK,
                KIND,
                Status.FAIL,
                reason,
                observed,
                f"a {budget_stage.value} budget",
                tuple(evidence),
            )
        ]
    expected = f"≤ {budget:,.0f} {currency}/month (warn at {criteria.warn_ratio:.0%})"
    share = f"{chosen.point / budget:.0%} of" if budget > 0 else "against"
    budget_text = f"the {budget:,.0f} {currency} {budget_stage.value} budget"
    if chosen.point > budget:
        status, reason = Status.FAIL, f"{forecast_text} exceeds {budget_text}"
    elif budget > 0 and chosen.point >= criteria.warn_ratio * budget:
        status = Status.WARN
        reason = (
            f"{forecast_text} is {share} {budget_text}, at or above the "
            f"{criteria.warn_ratio:.0%} alert level"
        )
    else:
        status, reason = Status.PASS, f"{forecast_text} is {share} {budget_text}"
    return [CheckResult(CHECK, KIND, status, reason, observed, expected, tuple(evidence))]


def forecasts_for(
    ctx: CheckContext, budget_stage: Stage, spend: DailySpend | None
) -> list[Forecast]:
    """Every forecast the spec's inputs allow (possibly none)."""
    forecasts = []
    unit = ctx.usecase.evidence.cost.unit.get(budget_stage.value)
    if unit is not None:
        point = (
            unit.requests_per_month * unit.cost_per_request
            + unit.users * unit.cost_per_user
            + unit.fixed_monthly
        )
        forecasts.append(Forecast("unit economics", point, point, point))
    if spend is not None:
        forecasts.append(run_rate(ctx, budget_stage, spend))
    return forecasts


def run_rate(ctx: CheckContext, budget_stage: Stage, spend: DailySpend) -> Forecast:
    """Mean daily spend × days per month, scaled from this stage's users to the next's."""
    scale, note = 1.0, ""
    users = ctx.usecase.evidence.cost.users
    target, current = users.get(budget_stage.value), users.get(ctx.stage.value)
    if target is not None and current is not None:
        if current <= 0:
            raise EvidenceError(
                f"evidence.cost.users.{ctx.stage.value}: must be above 0 to scale observed "
                f"spend to {budget_stage.value} (found {current:g})"
            )
        scale = target / current
        note = f"×{scale:g} users ({current:g} → {target:g})"
    month = DAYS_PER_MONTH * scale
    totals = spend.totals
    return Forecast(
        "run-rate",
        float(totals.mean()) * month,
        float(totals.quantile(0.1)) * month,
        float(totals.quantile(0.9)) * month,
        note,
    )


def load_daily_spend(ctx: CheckContext) -> DailySpend:
    """The daily spend dataset, validated: ``date`` and non-negative numeric ``cost``."""
    import pandas as pd

    name = ctx.usecase.evidence.cost.daily_spend.get(ctx.stage.value, "")
    location = ctx.usecase.evidence.datasets.get(name)
    if location is None:
        raise EvidenceError(
            f"evidence.cost.daily_spend.{ctx.stage.value}: names dataset {name!r}, which is not declared "
            "under evidence.datasets"
        )
    where = f"daily spend dataset {name!r}"
    try:
        loaded = load_dataset(ctx.workspace.evidence_path(location))
    except EvidenceError as e:
        raise EvidenceError(f"{where}: {e.message}") from e
    where = f"{where} ({location})"
    frame = loaded.frame
    missing = [c for c in DAILY_SPEND_COLUMNS if c not in frame.columns]
    if missing:
        raise EvidenceError(
            f"{where}: missing column(s) {', '.join(missing)}; "
            f"expected columns {', '.join(DAILY_SPEND_COLUMNS)}"
        )
    dates = pd.to_datetime(frame["date"], errors="coerce", utc=True)
    costs = pd.to_numeric(frame["cost"], errors="coerce")
    bad_date = dates.isna()
    if bad_date.any():
        position = _first(bad_date)
        raise EvidenceError(
            f"{where}: row {position + 1}: date {shown(frame['date'].iloc[position])} is not a date"
        )
    bad_cost = costs.isna() | ~costs.abs().lt(math.inf)
    if bad_cost.any():
        position = _first(bad_cost)
        value = shown(frame["cost"].iloc[position])
        raise EvidenceError(f"{where}: row {position + 1}: cost {value} is not a number")
    negative = costs.lt(0)
    if negative.any():
        position = _first(negative)
        raise EvidenceError(
            f"{where}: row {position + 1}: cost {float(costs.iloc[position]):g} is negative"
        )
    # Several rows of one date (e.g. one per service) add up to that day's spend.
    totals = costs.groupby(dates.dt.normalize()).sum().astype(float)
    if len(totals) < MIN_DAYS:
        raise EvidenceError(
            f"{where}: {len(totals)} day(s) of spend; a run-rate needs at least {MIN_DAYS}"
        )
    return DailySpend(dataset=name, loaded=loaded, totals=totals)


def shown(value: object) -> str:
    """A cell value for a message: text quoted, numbers plain (not numpy reprs)."""
    return repr(value) if isinstance(value, str) else str(value)


def _first(mask: pd.Series) -> int:
    """Position (0-based) of the first True in a boolean column."""
    return int(mask.to_numpy().argmax())


def _inputs_evidence(
    ctx: CheckContext,
    budget_stage: Stage,
    budget: float | None,
    warn_ratio: float,
    spend: DailySpend | None,
    forecasts: list[Forecast],
    chosen: Forecast,
) -> Evidence:
    """Every input of the forecast, digested, so an auditor can recompute it."""
    cost = ctx.usecase.evidence.cost
    unit = cost.unit.get(budget_stage.value)
    inputs: dict[str, Any] = {
        "usecase": ctx.usecase.id,
        "stage": ctx.stage.value,
        "budget_stage": budget_stage.value,
        "budget": budget,
        "currency": ctx.criteria.currency,
        "warn_ratio": warn_ratio,
        "days_per_month": DAYS_PER_MONTH,
        "unit": unit.model_dump(mode="json") if unit is not None else None,
        "users": dict(sorted(cost.users.items())),
        "daily_spend": None,
        "forecasts": [f.to_json() for f in forecasts],
        "method_used": chosen.method,
    }
    if spend is not None:
        totals = spend.totals
        inputs["daily_spend"] = {
            "dataset": spend.dataset,
            "uri": spend.loaded.uri,
            "digest": spend.loaded.digest,
            "days": spend.days,
            "first": totals.index.min().date().isoformat(),
            "last": totals.index.max().date().isoformat(),
            "mean_daily": round(float(totals.mean()), 2),
            "p10_daily": round(float(totals.quantile(0.1)), 2),
            "p90_daily": round(float(totals.quantile(0.9)), 2),
        }
    return Evidence(
        kind="cost-inputs",
        uri=f"usecase:{ctx.usecase.id}#evidence.cost",
        digest=digest_of(inputs),
        details=inputs,
    )
