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
    warn_below: int = Field(default=2, ge=0)


class BudgetRule(_Strict):
    #: What a missing budget for the current stage is.
    missing: Literal["warn", "fail"] = "warn"


class TimeBoxRule(_Strict):
    #: Past the hard maximum the Go/No-Go decision is overdue.
    overdue: Literal["warn", "fail"] = "fail"


class FreshnessRule(_Strict):
    max_age_days: float = Field(gt=0)


class LatencyLimits(_Strict):
    p50: float | None = Field(default=None, gt=0)
    p95: float | None = Field(default=None, gt=0)
    p99: float | None = Field(default=None, gt=0)


class ErrorRateRule(_Strict):
    max: float = Field(ge=0, le=1)
    #: The latest period's error rate above this multiple of the window's median is a spike.
    spike_factor: float = Field(default=3.0, gt=1)


class QualityRule(_Strict):
    #: The quality score the use case committed to; required for a production health check.
    target: float | None = None
    metric: str = "quality_score"
    max_drop: float = Field(default=0.05, ge=0, le=1)
    weekly_days: int = Field(default=7, ge=1)


class CostRule(_Strict):
    warn_ratio: float = Field(default=0.8, gt=0, le=1)


class HealthRule(_Strict):
    window_days: int = Field(default=30, ge=1)
    freshness_days: float = Field(default=2, gt=0)
    availability_min: float = Field(default=0.999, gt=0, le=1)
    latency_ms: LatencyLimits = LatencyLimits()
    error_rate: ErrorRateRule = ErrorRateRule(max=0.01)
    quality: QualityRule = QualityRule()
    cost: CostRule = CostRule()
    major_incidents_max: int = Field(default=0, ge=0)
    alert_rules: list[Literal["latency", "error_rate", "quality_drop", "cost_80"]] = Field(
        default_factory=list
    )
    documents: list[str] = Field(default_factory=list)


class RecheckPolicy(_Strict):
    """The effective re-check policy of one use case in one stage."""

    stage: str
    sponsors: SponsorRule | None = None
    budget: BudgetRule | None = None
    risks: bool = False
    time_box: TimeBoxRule | None = None
    freshness: FreshnessRule | None = None
    criteria_unchanged: bool = False
    health: HealthRule | None = None

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
        raise ConfigError(source, pydantic_problems(e, prefix=f"recheck.{stage.value}")) from e
