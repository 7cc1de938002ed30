"""The re-check policy: per current stage, what the nightly run judges, as data.

Shipped defaults (``recheck.yaml``) trace to the playbook; a use case overrides any value
under ``recheck.<stage>``. The effective policy is digested into every re-check entry,
so an auditor sees exactly which thresholds a night was judged by.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gates.canonical import digest_of
from gates.config_files import parse_yaml
from gates.errors import ConfigError
from gates.policy.merge import deep_merge, pydantic_problems
from gates.stages import Stage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SponsorRule(_Strict):
    """Sponsors the night counts: none fails, fewer than ``warn_below`` warns."""

    warn_below: int = Field(default=2, ge=0, description="Fewer sponsors warns.")


class BudgetRule(_Strict):
    """The current stage's budget."""

    missing: Literal["warn", "fail"] = Field(
        "warn", description="What a missing budget for the current stage is."
    )


class TimeBoxRule(_Strict):
    """The stage's time box, as the gate judges it."""

    overdue: Literal["warn", "fail"] = Field(
        "fail", description="What the night says past the hard maximum (Go/No-Go overdue)."
    )


class FreshnessRule(_Strict):
    """Evidence keeps coming: a stage without new evidence may have stalled."""

    max_age_days: float = Field(gt=0, description="Older newest evidence warns.")


class LatencyLimits(_Strict):
    """Latency thresholds in milliseconds, per percentile."""

    p50: float | None = Field(default=None, gt=0, description="Median latency limit (ms).")
    p95: float | None = Field(default=None, gt=0, description="P95 latency limit (ms).")
    p99: float | None = Field(default=None, gt=0, description="P99 latency limit (ms).")


class ErrorRateRule(_Strict):
    """Error rate: a ceiling, and a spike against the window's median."""

    max: float = Field(ge=0, le=1, description="Highest error rate allowed (0–1).")
    spike_factor: float = Field(
        default=3.0,
        gt=1,
        description="The latest period's error rate above this multiple of the window's "
        "median is a spike.",
    )


class QualityRule(_Strict):
    """The production quality score against the target the use case committed to."""

    target: float | None = Field(
        None,
        description="The quality score the use case committed to (e.g. the accuracy the "
        "PoC proved); required in Production.",
    )
    metric: str = Field("quality_score", description="The monitoring metric holding it.")
    max_drop: float = Field(
        default=0.05, ge=0, le=1, description="Largest drop below the target (0.05: −5 %)."
    )
    weekly_days: int = Field(default=7, ge=1, description="Days of the weekly mean.")


class CostRule(_Strict):
    """The month's cost forecast against the production budget."""

    warn_ratio: float = Field(
        default=0.8, gt=0, le=1, description="Share of the budget at which the night warns."
    )


class HealthRule(_Strict):
    """Production health over the monitoring window."""

    window_days: int = Field(default=30, ge=1, description="Days of monitoring judged.")
    freshness_days: float = Field(
        default=2, gt=0, description="Monitoring older than this: production is unobserved."
    )
    availability_min: float = Field(
        default=0.999, gt=0, le=1, description="Lowest availability (0.999: 99.9 %)."
    )
    latency_ms: LatencyLimits = Field(LatencyLimits(), description="Latency limits.")
    error_rate: ErrorRateRule = Field(ErrorRateRule(max=0.01), description="Error rate.")
    quality: QualityRule = Field(QualityRule(), description="Quality against its target.")
    cost: CostRule = Field(CostRule(), description="Monthly cost against the budget.")
    major_incidents_max: int = Field(
        default=0, ge=0, description="Most major incidents this month."
    )
    alert_rules: list[Literal["latency", "error_rate", "quality_drop", "cost_80"]] = Field(
        default_factory=list,
        description="Alerts that must be in place (`evidence.monitoring.alert_rules`).",
    )
    documents: list[str] = Field(
        default_factory=list,
        description="Deliverables that must exist (runbook, incident playbook, rollback plan).",
    )


class RecheckPolicy(_Strict):
    """The effective re-check policy of one use case in one stage."""

    stage: str = Field(description="The stage being re-checked.")
    sponsors: SponsorRule | None = Field(None, description="Sponsor count.")
    budget: BudgetRule | None = Field(None, description="The stage's budget.")
    risks: bool = Field(False, description="Report the rest of the risk register as warnings.")
    time_box: TimeBoxRule | None = Field(None, description="The stage's time box.")
    freshness: FreshnessRule | None = Field(None, description="Evidence freshness.")
    criteria_unchanged: bool = Field(
        False, description="The spec's criteria still hash to the locked ones."
    )
    health: HealthRule | None = Field(None, description="Production health (Production only).")

    @property
    def digest(self) -> str:
        return digest_of(self.model_dump(mode="json"))


@cache
def default_recheck_policy() -> dict[str, dict[str, Any]]:
    text = resources.files("gates.policy").joinpath("recheck.yaml").read_text("utf-8")
    data = parse_yaml(text, "gates/policy/recheck.yaml")
    if not isinstance(data, dict):
        raise ConfigError("gates/policy/recheck.yaml", ["expected a mapping of stage -> policy"])
    return data


def effective_recheck_policy(
    stage: Stage, overrides: dict[str, Any] | None = None, *, source: str = "policy"
) -> RecheckPolicy:
    """Defaults for every stage, then the stage's, then the use case's overrides."""
    policy = default_recheck_policy()
    raw = deep_merge(policy.get("every_stage", {}), policy.get(stage.value, {}))
    raw = deep_merge(raw, overrides or {})
    raw["stage"] = stage.value
    try:
        return RecheckPolicy.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(
            source, pydantic_problems(e, prefix=f"recheck.{stage.value}", model=RecheckPolicy)
        ) from e
