"""The check kinds a gate runs by default, in report order, each with when it applies.

The engine receives a registry (``plan_gate(..., checks=DEFAULT_CHECKS)``) instead of
finding checks by module name, so a caller or a test can hand it other checks. Every
check module is light to import: Great Expectations, MLflow and pandas load only when a
check that needs them runs, so importing this registry keeps auditor commands fast.
"""

from __future__ import annotations

from types import MappingProxyType

from gates.checks import (
    approvals,
    blockers,
    cost_forecast,
    criteria_lock,
    deliverables,
    expectations,
    mlflow_metrics,
    next_criteria,
    pilot_outcomes,
    scale_readiness,
    sponsors,
    timebox,
)
from gates.checks.interface import Check, CheckRegistry
from gates.stages import Stage


def registry_of(*checks: Check) -> CheckRegistry:
    """A read-only registry of ``checks``, listed (and run) in the order given."""
    by_kind = {check.kind: check for check in checks}
    if len(by_kind) != len(checks):
        kinds = [check.kind for check in checks]
        twice = sorted({kind for kind in kinds if kinds.count(kind) > 1})
        raise ValueError(f"check kinds registered twice: {', '.join(twice)}")
    return MappingProxyType(by_kind)


#: Kinds are named as the check modules are (``criteria_lock``), which is how plans,
#: task runs and the ``error`` results of crashed checks have always named them.
DEFAULT_CHECKS: CheckRegistry = registry_of(
    Check("criteria_lock", criteria_lock.run),
    Check(
        "timebox",
        timebox.run,
        lambda c: c.time_box.planned_days is not None or c.time_box.max_days is not None,
    ),
    Check(
        "sponsors", sponsors.run, lambda c: c.sponsors is not None or bool(c.budget_required_for)
    ),
    Check("approvals", approvals.run, lambda c: any(n > 0 for n in c.approvals.values())),
    Check("deliverables", deliverables.run, lambda c: bool(c.deliverables)),
    Check("expectations", expectations.run, lambda c: bool(c.datasets)),
    Check("mlflow_metrics", mlflow_metrics.run, lambda c: bool(c.metrics)),
    Check("pilot_outcomes", pilot_outcomes.run, lambda c: c.pilot is not None),
    Check("blockers", blockers.run, lambda c: c.open_blockers_max is not None),
    Check("cost_forecast", cost_forecast.run, lambda c: c.cost is not None),
    Check("scale_readiness", scale_readiness.run, lambda c: c.scale is not None),
    Check(
        "next_criteria",
        next_criteria.run,
        lambda c: c.to_stage not in (Stage.SCALE.value, Stage.STOPPED.value),
    ),
)
