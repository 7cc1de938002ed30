"""The quarterly Scale review: each playbook goal, whether the quarter met it, and the trend.

Goals (playbook, Scale stage): at least ``goal`` new use cases reach Production per
quarter; the share of departments using AI rises; adoption time and cost fall; reuse of
shared components rises. A trend compares the quarter with the nearest earlier quarter
that has a figure; ``met`` is None when there is nothing to compare with. A share
already at 100 % counts as met: it cannot rise further.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gates.scale.metrics import QuarterMetrics

if TYPE_CHECKING:
    from gates.workspace.loader import Workspace

Trend = Literal["rising", "falling", "flat"]
#: Default goal: new use cases reaching Production per quarter (playbook: 2 or more).
PRODUCTION_GOAL = 2


def trend(current: float | None, previous: float | None) -> Trend | None:
    if current is None or previous is None:
        return None
    if current > previous:
        return "rising"
    if current < previous:
        return "falling"
    return "flat"


def previous_value(
    quarters: tuple[QuarterMetrics, ...], figure: Callable[[QuarterMetrics], float | None]
) -> float | None:
    """The figure of the nearest earlier quarter that has one (``quarters`` ends with the reviewed one)."""
    for q in reversed(quarters[:-1]):
        value = figure(q)
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class GoalReview:
    metric: str
    label: str
    goal: str
    value: float | None
    previous: float | None
    trend: Trend | None
    met: bool | None
    unit: str = ""

    def shown(self, value: float | None) -> str:
        """A figure of this goal as a reader wants it."""
        if value is None:
            return "—"
        if self.unit == "share":
            return f"{value:.0%}"
        if self.unit == "days":
            return f"{value:.0f} days"
        if self.unit:
            return f"{value:,.0f} {self.unit}/month"
        return f"{value:.0f}"

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "goal": self.goal,
            "value": self.value,
            "previous": self.previous,
            "trend": self.trend,
            "met": self.met,
            "unit": self.unit,
        }


def _rising(
    metric: str, label: str, value: float | None, previous: float | None, unit: str
) -> GoalReview:
    change = trend(value, previous)
    met: bool | None
    if value is not None and value >= 1:
        met = True  # a full share cannot rise further
    else:
        met = None if change is None else change == "rising"
    return GoalReview(metric, label, "rising", value, previous, change, met, unit)


def _falling(
    metric: str, label: str, value: float | None, previous: float | None, unit: str
) -> GoalReview:
    change = trend(value, previous)
    return GoalReview(
        metric,
        label,
        "falling",
        value,
        previous,
        change,
        None if change is None else change == "falling",
        unit,
    )


def _cost_in(currency: str) -> Callable[[QuarterMetrics], float | None]:
    return lambda m: m.median_cost.get(currency)


@dataclass(frozen=True)
class ScaleReview:
    """The review of the last quarter of ``quarters``, with the earlier ones for the trend."""

    quarters: tuple[QuarterMetrics, ...]
    production_goal: int = PRODUCTION_GOAL

    @property
    def current(self) -> QuarterMetrics:
        return self.quarters[-1]

    def goals(self) -> list[GoalReview]:
        q, qs = self.current, self.quarters
        count_before = float(qs[-2].production_count) if len(qs) > 1 else None
        goals = [
            GoalReview(
                "productionUseCases",
                "New use cases reaching Production",
                f"≥ {self.production_goal} per quarter",
                float(q.production_count),
                count_before,
                trend(float(q.production_count), count_before),
                q.production_count >= self.production_goal,
            ),
            _rising(
                "departmentShare",
                "Share of departments with a use case in Production",
                q.department_share,
                previous_value(qs, lambda m: m.department_share),
                "share",
            ),
            _falling(
                "exploreToProductionDays",
                "Median days from Explore to Production",
                q.median_adoption_days,
                previous_value(qs, lambda m: m.median_adoption_days),
                "days",
            ),
        ]
        for currency in q.median_cost or self._last_currencies():
            goals.append(
                _falling(
                    f"monthlyCost:{currency}",
                    f"Median monthly production cost per new use case ({currency})",
                    q.median_cost.get(currency),
                    previous_value(qs, _cost_in(currency)),
                    currency,
                )
            )
        goals.append(
            _rising(
                "componentReuse",
                "Share of new production use cases reusing a shared component",
                q.reuse_share,
                previous_value(qs, lambda m: m.reuse_share),
                "share",
            )
        )
        return goals

    def _last_currencies(self) -> list[str]:
        for q in reversed(self.quarters):
            if q.median_cost:
                return list(q.median_cost)
        return []

    def to_json(self) -> dict[str, Any]:
        q = self.current
        return {
            "quarter": q.quarter.label,
            "start": q.quarter.start.isoformat(),
            "end": q.quarter.end.isoformat(),
            "complete": q.complete,
            "productionGoal": self.production_goal,
            "goals": {g.metric: g.to_json() for g in self.goals()},
            "quarters": [m.to_json() for m in self.quarters],
        }


def organisation_goal(workspace: Workspace) -> int:
    """New use cases per quarter the workspace's policy asks of the organisation.

    The Scale goal belongs to the organisation, not to one use case: it is read from the
    workspace policy's Production criteria (per-use-case overrides do not apply).
    """
    from gates.policy.effective import effective_criteria
    from gates.stages import Stage

    criteria = effective_criteria(
        Stage.PRODUCTION, policy=workspace.policy(), source="policy.production.scale"
    )
    return criteria.scale.production_per_quarter_min if criteria.scale else PRODUCTION_GOAL
