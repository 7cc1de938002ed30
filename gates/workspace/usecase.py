"""A use-case spec (``usecases/<id>.yaml``): who owns it, its budgets, criteria and evidence."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gates.policy.merge import did_you_mean
from gates.stages import ROADMAP, Stage

USECASE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
T = TypeVar("T")


def stage_keyed(value: dict[str, T]) -> dict[str, T]:
    """Refuse mapping keys that are not roadmap stages, naming them and the known ones."""
    known = {s.value for s in ROADMAP}
    unknown = sorted(k for k in value if k not in known)
    if unknown:
        hints = "".join(did_you_mean(name, known) for name in unknown)
        raise ValueError(f"unknown stage(s) {unknown}; expected one of {sorted(known)}{hints}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Sponsor(_Strict):
    """An executive sponsor: the person who owns the decisions (two survive one leaving)."""

    name: str = Field(min_length=1, description="The sponsor's name.")
    title: str = Field("", description="Their role, e.g. COO.")


class RunSelector(_Strict):
    """Which MLflow run holds the metrics: exactly one of run_id, experiment, model.

    ``experiment`` picks the latest FINISHED run of that experiment (with all ``tags``);
    ``model`` (``models:/NAME/VERSION``) picks that registered version's source run.
    """

    run_id: str | None = Field(None, description="One MLflow run, by id.")
    experiment: str | None = Field(
        None, description="The latest FINISHED run of this MLflow experiment (with all `tags`)."
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags the run chosen by `experiment` must carry."
    )
    model: str | None = Field(
        None, description="`models:/NAME/VERSION`: that registered version's source run."
    )

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

    requests_per_month: float = Field(default=0, ge=0, description="Expected requests a month.")
    cost_per_request: float = Field(default=0, ge=0, description="Cost of one request.")
    users: float = Field(default=0, ge=0, description="Expected users.")
    cost_per_user: float = Field(default=0, ge=0, description="Monthly cost per user (seats).")
    fixed_monthly: float = Field(default=0, ge=0, description="Fixed monthly cost (hosting…).")


class CostEvidence(_Strict):
    """The inputs of the cost forecast a gate holds to the next stage's budget."""

    daily_spend: dict[str, str] = Field(
        default_factory=dict,
        description="Daily spend observed during a stage, keyed by that stage: a dataset "
        "name (under `evidence.datasets`) with columns `date` and `cost`. Leaving the "
        "stage, its run-rate is scaled to the next stage's users.",
    )
    unit: dict[str, UnitCosts] = Field(
        default_factory=dict,
        description="Unit economics keyed by the stage whose cost is forecast (`unit.pilot` "
        "is read leaving PoC).",
    )
    users: dict[str, float] = Field(
        default_factory=dict,
        description="Expected users in each stage, to scale observed spend from a smaller group.",
    )

    @field_validator("daily_spend", "unit", "users")
    @classmethod
    def _stage_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return stage_keyed(value)


class KpiEvidence(_Strict):
    """A business KPI measured against its baseline, from a dataset column."""

    name: str = Field(min_length=1, description="What the KPI is, e.g. average handle time.")
    baseline: float = Field(description="Its value before the pilot.")
    direction: Literal["higher", "lower"] = Field(description="Which way is better.")
    dataset: str = Field(
        min_length=1, description="The dataset (under `evidence.datasets`) it is measured in."
    )
    column: str = Field(min_length=1, description="The column holding it.")
    aggregate: Literal["mean", "median", "sum", "last"] = Field(
        "mean", description="How the column's values make one figure."
    )


class PilotEvidence(_Strict):
    """What the Pilot gate reads about real users: their feedback and the business KPI."""

    feedback: str = Field(
        "feedback",
        description="The dataset (under `evidence.datasets`) of pilot feedback: columns "
        "`user_id`, `timestamp`, `score` (1–5).",
    )
    kpi: KpiEvidence | None = Field(
        None, description="The business KPI the pilot must improve, against its baseline."
    )


class ModelRef(_Strict):
    """The registered model whose alias (``pilot``, ``production``) a passing gate moves."""

    name: str = Field(min_length=1, description="The MLflow registered model's name.")
    move_alias: bool = Field(
        True, description="Move the `pilot` / `production` alias to the gated version on a pass."
    )


class MonitoringEvidence(_Strict):
    """Where Production's health is observed, one row or run per period (usually a day).

    ``experiment`` names an MLflow experiment of periodic monitoring runs; ``dataset``
    names an operational dataset (under ``evidence.datasets``) validated by the GX
    suite ``suite`` before it is trusted. Either or both; both must agree on health.
    Metrics: availability, latency_p50_ms, latency_p95_ms, latency_p99_ms, error_rate,
    quality_score, cost, major_incidents (and requests, when known).
    """

    experiment: str | None = Field(
        None, description="An MLflow experiment of periodic monitoring runs (one per day)."
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags the monitoring runs must carry."
    )
    dataset: str | None = Field(
        None,
        description="An operational dataset (under `evidence.datasets`) with one row per "
        "period: `date` and the metrics.",
    )
    suite: str = Field(
        "production_monitoring", description="The GX suite `dataset` is validated with first."
    )
    alert_rules: str | None = Field(
        None,
        description="File (YAML/JSON, relative to the workspace or s3://) of the alert "
        "rules in place; each rule's `labels.covers` names the playbook alert it is.",
    )

    @model_validator(mode="after")
    def _some_source(self) -> MonitoringEvidence:
        if not self.experiment and not self.dataset:
            raise ValueError("set experiment (MLflow) and/or dataset (operational data)")
        return self


class Evidence(_Strict):
    """Where a use case's evidence lives. Paths are relative to the workspace or s3:// URLs."""

    datasets: dict[str, str] = Field(
        default_factory=dict,
        description="Datasets by name (CSV, Parquet, JSON), which criteria and other "
        "evidence refer to: `test_set` (PoC), `feedback` and `operations` (Pilot), ….",
    )
    deliverables: dict[str, str] = Field(
        default_factory=dict,
        description="Deliverables by the names the exit criteria use: a file or a folder, "
        "present and non-empty.",
    )
    metrics: dict[str, RunSelector] = Field(
        default_factory=dict,
        description="The MLflow run whose metrics judge a stage, keyed by the stage being left.",
    )
    cost: CostEvidence = Field(CostEvidence(), description="The inputs of the cost forecasts.")
    pilot: PilotEvidence = Field(
        PilotEvidence(), description="The pilot's feedback and business KPI."
    )
    issues: str | None = Field(
        None,
        description="Issue-tracker export (CSV, YAML or JSON): `id`, `title`, `kind` "
        "(blocker, issue), `severity` (critical, major, minor), `status` (open, closed).",
    )
    monitoring: MonitoringEvidence | None = Field(
        None, description="Where Production's health is observed (required in Production)."
    )

    @field_validator("metrics")
    @classmethod
    def _stage_keys(cls, value: dict[str, RunSelector]) -> dict[str, RunSelector]:
        return stage_keyed(value)


class PilotGroup(_Strict):
    """Who the pilot users are: the playbook starts with early adopters to limit resistance."""

    early_adopters: bool = Field(description="Whether the pilot users are early adopters.")
    description: str = Field("", description="Who they are.")


class StageWeeks(_Strict):
    """Weeks of the roadmap a stage occupies, counted from week 1 at the start date."""

    first: int = Field(ge=1, description="The stage's first week.")
    last: int | None = Field(default=None, ge=1, description="Its last week; empty: ongoing.")

    @model_validator(mode="after")
    def _ordered(self) -> StageWeeks:
        if self.last is not None and self.last < self.first:
            raise ValueError("last week must not be before the first")
        return self


class RoadmapOverride(_Strict):
    """Overrides of the 12-week roadmap template for one use case."""

    start_date: date | None = Field(
        None, description="Week 1 of the roadmap (default: the spec's `start_date`)."
    )
    stages: dict[str, StageWeeks] = Field(
        default_factory=dict, description="The weeks each stage occupies, keyed by stage."
    )
    checkpoints: dict[int, str] = Field(
        default_factory=dict,
        description='Decision checkpoints by week number, e.g. `{6: "go to Pilot?"}`; '
        "replaces the template's.",
    )

    @field_validator("stages")
    @classmethod
    def _stage_keys(cls, value: dict[str, StageWeeks]) -> dict[str, StageWeeks]:
        return stage_keyed(value)


class UseCaseSpec(_Strict):
    """A use case under stagegate's gates (`usecases/<id>.yaml`)."""

    id: str = Field(
        description="Lower-case letters, digits and `-` (at most 63); the file's name without `.yaml`."
    )
    title: str = Field(min_length=1, description="What the use case is, in a few words.")
    owner: str = Field(min_length=1, description="Who runs it day to day (a name or an address).")
    department: str = Field(min_length=1, description="The department it serves.")
    sponsors: list[Sponsor] = Field(
        default_factory=list,
        description="Executive sponsors; Explore's gate needs one, two survive one leaving.",
    )
    start_date: date | None = Field(None, description="Week 1 of its roadmap.")
    currency: str = Field("USD", description="The currency of its budgets and costs.")
    budgets: dict[str, float] = Field(
        default_factory=dict,
        description="Monthly budget per stage; each gate needs the next stage's "
        "(`budgets.poc` to leave Explore).",
    )
    criteria: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Exit-criteria overrides keyed by the stage being left, merged over the "
        "default policy (`criteria.poc.metrics` is the PoC quality bar).",
    )
    model: ModelRef | None = Field(
        None, description="The MLflow registered model whose alias a passing gate moves."
    )
    evidence: Evidence = Field(Evidence(), description="Where the use case's evidence lives.")
    recheck: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Re-check policy overrides keyed by stage, merged over the shipped "
        "re-check policy (`recheck.production.health.quality.target` is the production "
        "quality target).",
    )
    roadmap: RoadmapOverride | None = Field(
        None, description="Overrides of the roadmap template for this use case."
    )
    components: list[str] = Field(
        default_factory=list,
        description="Shared components it reuses (names from the organisation's library).",
    )
    pilot_group: PilotGroup | None = Field(None, description="Who the pilot users are.")

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
