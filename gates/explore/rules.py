"""The scoring rules of Explore: criteria, their named levels, sub-scores and weights.

The rules are data (``defaults.yaml``) so every number a ranking rests on can be read,
reviewed and traced to the playbook; the level names are also types here, so a
candidates file is checked against them at the boundary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

from gates.config_files import parse_yaml
from gates.errors import ConfigError

Criterion = Literal["impact", "complexity", "data", "measurability", "stakeholders"]
ImpactLevel = Literal["low", "medium", "high", "very_high"]
ComplexityLevel = Literal["low", "medium", "high", "very_high"]
DataLevel = Literal[
    "structured_accessible", "structured_restricted", "unstructured", "scattered", "unavailable"
]
MeasurabilityLevel = Literal["clear_metric", "proxy_metric", "subjective", "none"]
StakeholderLevel = Literal["cooperative", "neutral", "resistant"]

#: The playbook's selection criteria, in the order they are shown.
CRITERIA: tuple[Criterion, ...] = get_args(Criterion)
#: The criteria whose weighted mean is a candidate's feasibility (everything but impact).
FEASIBILITY_CRITERIA: tuple[Criterion, ...] = tuple(c for c in CRITERIA if c != "impact")
LEVELS: dict[Criterion, tuple[str, ...]] = {
    "impact": get_args(ImpactLevel),
    "complexity": get_args(ComplexityLevel),
    "data": get_args(DataLevel),
    "measurability": get_args(MeasurabilityLevel),
    "stakeholders": get_args(StakeholderLevel),
}
#: Impact levels on the right-hand (high-impact) half of the priority matrix.
HIGH_IMPACT = frozenset({"high", "very_high"})
TIE_BREAK = "score (descending), then feasibility (descending), then id (ascending)"
DEFAULTS_NAME = "defaults.yaml"


@dataclass(frozen=True)
class Level:
    score: float
    why: str


@dataclass(frozen=True)
class Rules:
    """Sub-scores per level, the weights in force and the feasibility threshold."""

    levels: Mapping[Criterion, Mapping[str, Level]]
    weights: Mapping[Criterion, float]
    feasible_at: float

    def level(self, criterion: Criterion, name: str) -> Level:
        return self.levels[criterion][name]

    def with_weights(self, overrides: Mapping[Any, Any], source: str) -> Rules:
        """These rules with some weights replaced; a ConfigError names ``source`` if bad."""
        if not overrides:
            return self
        merged = dict(self.weights)
        problems = []
        for name, value in overrides.items():
            if name not in CRITERIA:
                problems.append(
                    f"weights.{name}: unknown criterion; expected one of {', '.join(CRITERIA)}"
                )
            elif not isinstance(value, int | float) or isinstance(value, bool):
                problems.append(f"weights.{name}: expected a number, got {value!r}")
            elif not math.isfinite(value) or value < 0:
                problems.append(f"weights.{name}: must be a finite number ≥ 0, got {value!r}")
            else:
                merged[name] = float(value)
        problems.extend(_weight_problems(merged))
        if problems:
            raise ConfigError(source, problems)
        return Rules(self.levels, merged, self.feasible_at)


def _weight_problems(weights: Mapping[Criterion, float]) -> list[str]:
    if sum(weights.values()) <= 0:
        return ["weights: at least one criterion needs a positive weight"]
    if sum(weights[c] for c in FEASIBILITY_CRITERIA) <= 0:
        return [
            "weights: at least one of complexity, data, measurability, stakeholders needs a "
            "positive weight (feasibility is their weighted mean)"
        ]
    return []


def _parse_rules(raw: Any, source: str) -> Rules:
    if not isinstance(raw, dict) or set(raw) != {"weights", "feasible_at", "levels"}:
        raise ConfigError(source, ["expected the keys weights, feasible_at and levels"])
    levels: dict[Criterion, dict[str, Level]] = {}
    problems: list[str] = []
    for criterion in CRITERIA:
        table = raw["levels"].get(criterion) or {}
        if set(table) != set(LEVELS[criterion]):
            problems.append(
                f"levels.{criterion}: expected exactly the levels {', '.join(LEVELS[criterion])}"
            )
            continue
        levels[criterion] = {}
        for name in LEVELS[criterion]:
            score, why = table[name].get("score"), table[name].get("why")
            if not isinstance(score, int | float) or not 0 <= score <= 1 or not why:
                problems.append(f"levels.{criterion}.{name}: needs a score in 0–1 and a why")
                continue
            levels[criterion][name] = Level(float(score), str(why))
    if not isinstance(raw["weights"], dict) or set(raw["weights"]) != set(CRITERIA):
        problems.append(f"weights: expected a weight for each of {', '.join(CRITERIA)}")
    feasible_at = raw["feasible_at"]
    if not isinstance(feasible_at, int | float) or not 0 < feasible_at <= 1:
        problems.append("feasible_at: expected a number in (0, 1]")
    if problems:
        raise ConfigError(source, problems)
    base = Rules(levels, {c: 0.0 for c in CRITERIA}, float(feasible_at))
    return base.with_weights(raw["weights"], source)


@cache
def default_rules() -> Rules:
    """The shipped rules (``gates/explore/defaults.yaml``)."""
    text = resources.files("gates.explore").joinpath(DEFAULTS_NAME).read_text("utf-8")
    source = f"gates/explore/{DEFAULTS_NAME}"
    return _parse_rules(parse_yaml(text, source), source)
