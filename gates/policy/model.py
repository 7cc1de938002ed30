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

    planned_days: int | None = Field(
        default=None, ge=1, description="Planned length: past it the gate warns."
    )
    max_days: int | None = Field(
        default=None,
        ge=1,
        description="Hard maximum: past it the Go/No-Go is overdue and the gate blocks.",
    )
    source: str = Field("", description="Where the numbers come from (the playbook's words).")

    @model_validator(mode="after")
    def _max_not_below_planned(self) -> TimeBox:
        if self.planned_days and self.max_days and self.max_days < self.planned_days:
            raise ValueError("max_days must be at least planned_days")
        return self


class MetricThreshold(_Strict):
    """One MLflow metric comparison, e.g. ``accuracy >= 0.85``."""

    metric: str = Field(min_length=1, description="The MLflow metric's name.")
    op: Comparison = Field(description="How the logged value compares with `value`.")
    value: float = Field(description="The threshold.")


class DatasetExpectation(_Strict):
    """Run the GX suite ``suite`` over the use case's dataset named ``dataset``."""

    dataset: str = Field(min_length=1, description="The dataset's name under `evidence.datasets`.")
    suite: str = Field(
        min_length=1,
        description="The GX suite: `expectations/<suite>.json` of the workspace, else the built-in one.",
    )
    min_rows: int | None = Field(default=None, ge=0, description="Fewest rows allowed.")
    max_rows: int | None = Field(default=None, ge=0, description="Most rows allowed.")


class CostCriteria(_Strict):
    """Forecast the next stage's monthly cost against its budget."""

    budget_stage: str = Field(description="The stage whose monthly budget the forecast is held to.")
    warn_ratio: float = Field(
        default=0.8, gt=0, le=1, description="Share of the budget at which the gate warns."
    )


class PilotCriteria(_Strict):
    """Whether real users found the pilot useful."""

    users_min: int = Field(default=10, ge=0, description="Fewest distinct pilot users.")
    users_max: int = Field(default=50, ge=0, description="Most distinct pilot users.")
    satisfaction_min: float = Field(4.0, description="Lowest mean satisfaction score.")
    satisfaction_scale: float = Field(5.0, description="The top of the satisfaction scale.")
    weekly_feedback: bool = Field(True, description="Feedback in every complete week.")
    kpi_must_improve: bool = Field(
        True, description="The business KPI (`evidence.pilot.kpi`) must beat its baseline."
    )
    critical_issues_max: int = Field(
        default=0, ge=0, description="Most open critical issues (`evidence.issues`)."
    )


class SponsorCriteria(_Strict):
    """How many executive sponsors the spec must name."""

    minimum: int = Field(default=1, ge=0, description="Fewer fails the gate.")
    warn_below: int = Field(default=2, ge=0, description="Fewer warns (sponsor loss).")


class ScaleCriteria(_Strict):
    """The quarterly Scale review's goals, judged on the last complete quarter (UTC)."""

    production_per_quarter_min: int = Field(
        default=2,
        ge=0,
        description="New use cases that must have reached Production in that quarter.",
    )
    department_share_may_fall: bool = Field(
        False,
        description="Whether the share of departments with a use case in Production may fall.",
    )
    adoption_time_rising: Literal["warn", "fail", "ignore"] = Field(
        "warn",
        description="What a rising median Explore→Production time (reuse not paying off) "
        "does to the gate.",
    )


class ExitCriteria(_Strict):
    """The effective exit criteria of one stage (the gate from it to the next stage)."""

    stage: str = Field(description="The stage being left.")
    to_stage: str = Field(description="The stage the gate leads to.")
    time_box: TimeBox = Field(TimeBox(), description="How long the stage may last.")
    sponsors: SponsorCriteria | None = Field(None, description="Executive sponsors required.")
    budget_required_for: list[str] = Field(
        default_factory=list, description="Stages whose budget must be set (`budgets.<stage>`)."
    )
    approvals: dict[str, int] = Field(
        default_factory=dict,
        description="Signed approvals needed per role (distinct trusted keys); 0 removes a role.",
    )
    deliverables: list[str] = Field(
        default_factory=list,
        description="Names of the deliverables required (declared under `evidence.deliverables`).",
    )
    datasets: list[DatasetExpectation] = Field(
        default_factory=list, description="Datasets validated by their GX suites."
    )
    metrics: list[MetricThreshold] = Field(
        default_factory=list,
        description="MLflow metric thresholds, read from the run `evidence.metrics.<stage>` selects.",
    )
    metrics_required: bool = Field(
        False, description="The stage needs a quality bar (`metrics`) defined before it starts."
    )
    cost: CostCriteria | None = Field(None, description="The cost forecast held to a budget.")
    pilot: PilotCriteria | None = Field(None, description="The pilot's outcomes.")
    open_blockers_max: int | None = Field(
        default=None, ge=0, description="Most open blockers (`evidence.issues`)."
    )
    alias: str | None = Field(
        None, description="The MLflow model alias a passing gate moves to the gated version."
    )
    scale: ScaleCriteria | None = Field(None, description="The quarterly Scale goals.")
    # Copied from the spec so that they are locked with the criteria.
    budgets: dict[str, float] = Field(
        default_factory=dict,
        description="Monthly budgets that judge this stage (its own, the next stage's, the "
        "cost forecast's), from the spec's `budgets`.",
    )
    currency: str = Field("USD", description="The spec's currency.")
    # Locked with the stage: loosening a threshold later needs an amendment.
    recheck: RecheckPolicy | None = Field(
        None, description="The nightly re-check policy of this stage, from the spec's `recheck`."
    )

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
