"""Typed exit criteria: what a stage must show before the gate to the next one opens.

Every field is optional data so that one model covers all four transitions; the
default policy (``defaults.yaml``) fills in the playbook's numbers per stage and a
use case may override any value. The effective criteria are frozen and digested; the
digest is what the ledger locks when a stage starts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from gates.policy.recheck import RecheckPolicy


class _Strict(BaseModel):
    # NaN and infinities judge nothing, and pydantic would dump them as null into the
    # digest the ledger locks: they are refused where they come in.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Comparison = Literal[">=", ">", "<=", "<", "=="]


class TimeBox(_Strict):
    """Days a stage may last: past ``planned_days`` is a warning, past ``max_days`` overdue."""

    planned_days: int | None = Field(default=None, ge=1)
    max_days: int | None = Field(default=None, ge=1)
    source: str = ""

    @model_validator(mode="after")
    def _max_not_below_planned(self) -> TimeBox:
        if self.planned_days and self.max_days and self.max_days < self.planned_days:
            raise ValueError("max_days must be at least planned_days")
        return self


class MetricThreshold(_Strict):
    """One MLflow metric comparison, e.g. ``accuracy >= 0.85``."""

    metric: str = Field(min_length=1)
    op: Comparison
    value: float


class DatasetExpectation(_Strict):
    """Run the GX suite ``suite`` over the use case's dataset named ``dataset``."""

    dataset: str = Field(min_length=1)
    suite: str = Field(min_length=1)
    min_rows: int | None = Field(default=None, ge=0)
    max_rows: int | None = Field(default=None, ge=0)


class CostCriteria(_Strict):
    """Forecast the next stage's monthly cost against its budget."""

    budget_stage: str
    warn_ratio: float = Field(default=0.8, gt=0, le=1)


class PilotCriteria(_Strict):
    users_min: int = Field(default=10, ge=0)
    users_max: int = Field(default=50, ge=0)
    satisfaction_min: float = 4.0
    satisfaction_scale: float = 5.0
    weekly_feedback: bool = True
    kpi_must_improve: bool = True
    critical_issues_max: int = Field(default=0, ge=0)


class SponsorCriteria(_Strict):
    minimum: int = Field(default=1, ge=0)
    warn_below: int = Field(default=2, ge=0)


class ScaleCriteria(_Strict):
    """The quarterly Scale review's goals, judged on the last complete quarter (UTC)."""

    #: New use cases that must have reached Production in that quarter.
    production_per_quarter_min: int = Field(default=2, ge=0)
    #: Whether the share of departments with a use case in Production may fall.
    department_share_may_fall: bool = False
    #: What a rising median Explore→Production time (reuse not paying off) does to the gate.
    adoption_time_rising: Literal["warn", "fail", "ignore"] = "warn"


class ExitCriteria(_Strict):
    """The effective exit criteria of one stage (the gate from it to the next stage)."""

    stage: str
    to_stage: str
    time_box: TimeBox = TimeBox()
    sponsors: SponsorCriteria | None = None
    budget_required_for: list[str] = Field(default_factory=list)
    approvals: dict[str, int] = Field(default_factory=dict)
    deliverables: list[str] = Field(default_factory=list)
    datasets: list[DatasetExpectation] = Field(default_factory=list)
    metrics: list[MetricThreshold] = Field(default_factory=list)
    metrics_required: bool = False
    cost: CostCriteria | None = None
    pilot: PilotCriteria | None = None
    open_blockers_max: int | None = Field(default=None, ge=0)
    alias: str | None = None
    scale: ScaleCriteria | None = None
    #: Monthly budgets that judge this stage (its own, the next stage's, the cost
    #: forecast's), copied from the spec so that they are locked with the criteria.
    budgets: dict[str, float] = Field(default_factory=dict)
    currency: str = "USD"
    #: The nightly re-check policy of this stage, locked with it: loosening a threshold
    #: later needs an amendment like any other criterion.
    recheck: RecheckPolicy | None = None

    def budget_for(self, stage: str) -> float | None:
        return self.budgets.get(stage)

    @model_validator(mode="after")
    def _quality_bar_defined(self) -> ExitCriteria:
        if self.metrics_required and not self.metrics:
            raise ValueError(
                f"the {self.stage} exit criteria need a quality bar defined up front: "
                f"set criteria.{self.stage}.metrics (e.g. accuracy >= 0.85)"
            )
        return self
