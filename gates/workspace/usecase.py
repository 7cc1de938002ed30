"""A use-case spec (``usecases/<id>.yaml``): who owns it, its budgets, criteria and evidence."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gates.stages import ROADMAP, Stage

USECASE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
T = TypeVar("T")


def stage_keyed(value: dict[str, T]) -> dict[str, T]:
    """Refuse mapping keys that are not roadmap stages, naming them and the known ones."""
    known = {s.value for s in ROADMAP}
    unknown = sorted(k for k in value if k not in known)
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; expected one of {sorted(known)}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Sponsor(_Strict):
    name: str = Field(min_length=1)
    title: str = ""


class RunSelector(_Strict):
    """Which MLflow run holds the metrics: exactly one of run_id, experiment, model.

    ``experiment`` picks the latest FINISHED run of that experiment (with all ``tags``);
    ``model`` (``models:/NAME/VERSION``) picks that registered version's source run.
    """

    run_id: str | None = None
    experiment: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    model: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RunSelector:
        chosen = [k for k in ("run_id", "experiment", "model") if getattr(self, k)]
        if len(chosen) != 1:
            raise ValueError("set exactly one of run_id, experiment or model")
        if self.model is not None and not re.fullmatch(r"models:/[^/]+/\d+", self.model):
            raise ValueError("model must look like models:/NAME/VERSION")
        return self


class UnitCosts(_Strict):
    """Unit economics of one stage's expected usage (all per month, in the spec's currency)."""

    requests_per_month: float = Field(default=0, ge=0)
    cost_per_request: float = Field(default=0, ge=0)
    users: float = Field(default=0, ge=0)
    cost_per_user: float = Field(default=0, ge=0)
    fixed_monthly: float = Field(default=0, ge=0)


class CostEvidence(_Strict):
    #: Daily spend observed during a stage, keyed by that stage: a dataset name (under
    #: ``datasets``) with columns ``date`` and ``cost``. Leaving the stage, its run-rate
    #: is scaled to the next stage's users.
    daily_spend: dict[str, str] = Field(default_factory=dict)
    #: Per-stage unit economics, keyed by the stage whose cost is forecast.
    unit: dict[str, UnitCosts] = Field(default_factory=dict)
    #: Expected users in each stage, used to scale observed spend from a smaller group.
    users: dict[str, float] = Field(default_factory=dict)


class KpiEvidence(_Strict):
    """A business KPI measured against its baseline, from a dataset column."""

    name: str = Field(min_length=1)
    baseline: float
    direction: Literal["higher", "lower"]
    dataset: str = Field(min_length=1)
    column: str = Field(min_length=1)
    aggregate: Literal["mean", "median", "sum", "last"] = "mean"


class PilotEvidence(_Strict):
    feedback: str = "feedback"  # dataset name: user_id, timestamp, score (1-5)
    kpi: KpiEvidence | None = None


class ModelRef(_Strict):
    """The registered model whose alias (``pilot``, ``production``) a passing gate moves."""

    name: str = Field(min_length=1)
    move_alias: bool = True


class MonitoringEvidence(_Strict):
    """Where Production's health is observed, one row or run per period (usually a day).

    ``experiment`` names an MLflow experiment of periodic monitoring runs; ``dataset``
    names an operational dataset (under ``evidence.datasets``) validated by the GX
    suite ``suite`` before it is trusted. Either or both; both must agree on health.
    Metrics: availability, latency_p50_ms, latency_p95_ms, latency_p99_ms, error_rate,
    quality_score, cost, major_incidents (and requests, when known).
    """

    experiment: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    dataset: str | None = None
    suite: str = "production_monitoring"
    #: File (YAML/JSON, relative to the workspace or s3://) listing the alert rules in place.
    alert_rules: str | None = None

    @model_validator(mode="after")
    def _some_source(self) -> MonitoringEvidence:
        if not self.experiment and not self.dataset:
            raise ValueError("set experiment (MLflow) and/or dataset (operational data)")
        return self


class Evidence(_Strict):
    """Where a use case's evidence lives. Paths are relative to the workspace or s3:// URLs."""

    datasets: dict[str, str] = Field(default_factory=dict)
    deliverables: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, RunSelector] = Field(default_factory=dict)
    cost: CostEvidence = CostEvidence()
    pilot: PilotEvidence = PilotEvidence()
    #: Issue tracker export (CSV/YAML/JSON): id, title, kind (blocker|issue), severity, status.
    issues: str | None = None
    monitoring: MonitoringEvidence | None = None


class PilotGroup(_Strict):
    """Who the pilot users are: the playbook starts with early adopters to limit resistance."""

    early_adopters: bool
    description: str = ""


class StageWeeks(_Strict):
    """Weeks of the roadmap a stage occupies, counted from week 1 at the start date."""

    first: int = Field(ge=1)
    last: int | None = Field(default=None, ge=1)  # None: ongoing

    @model_validator(mode="after")
    def _ordered(self) -> StageWeeks:
        if self.last is not None and self.last < self.first:
            raise ValueError("last week must not be before the first")
        return self


class RoadmapOverride(_Strict):
    """Overrides of the 12-week roadmap template for one use case."""

    start_date: date | None = None
    stages: dict[str, StageWeeks] = Field(default_factory=dict)
    #: Decision checkpoints by week number, e.g. ``{6: "go to Pilot?"}``; replaces the template's.
    checkpoints: dict[int, str] = Field(default_factory=dict)

    @field_validator("stages")
    @classmethod
    def _stage_keys(cls, value: dict[str, StageWeeks]) -> dict[str, StageWeeks]:
        return stage_keyed(value)


class UseCaseSpec(_Strict):
    id: str
    title: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    department: str = Field(min_length=1)
    sponsors: list[Sponsor] = Field(default_factory=list)
    start_date: date | None = None
    currency: str = "USD"
    #: Monthly budget per stage.
    budgets: dict[str, float] = Field(default_factory=dict)
    #: Exit-criteria overrides keyed by stage, merged over the default policy.
    criteria: dict[str, dict[str, Any]] = Field(default_factory=dict)
    model: ModelRef | None = None
    evidence: Evidence = Evidence()
    #: Re-check policy overrides keyed by stage, merged over the shipped re-check policy.
    recheck: dict[str, dict[str, Any]] = Field(default_factory=dict)
    roadmap: RoadmapOverride | None = None
    #: Shared components this use case reuses (names from the organisation's library).
    components: list[str] = Field(default_factory=list)
    pilot_group: PilotGroup | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not USECASE_ID.fullmatch(value):
            raise ValueError("use-case id must be lower-case letters, digits and '-' (max 63)")
        return value

    @field_validator("budgets", "criteria", "recheck")
    @classmethod
    def _stage_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return stage_keyed(value)

    @field_validator("budgets")
    @classmethod
    def _budgets_positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in value.items() if v < 0)
        if bad:
            raise ValueError(f"budgets must not be negative: {bad}")
        return value

    def budget_for(self, stage: Stage) -> float | None:
        return self.budgets.get(stage.value)
