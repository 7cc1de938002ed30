"""Check kind ``mlflow-metrics``: compare MLflow run metrics with the stage's quality bar.

One result per threshold (``metric:<name>``), so every criterion is visibly accounted
for; a run that cannot be read makes each of them an error, never a pass.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from gates.checks.interface import CheckContext, error_result
from gates.errors import EvidenceError
from gates.evidence.mlflow_source import json_number, resolve_run_once
from gates.policy.model import MetricThreshold
from gates.results import CheckResult, Status

KIND = "mlflow-metrics"

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    # Metrics are floats logged by code; exact equality would fail on rounding noise.
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}


def expected_text(threshold: MetricThreshold) -> str:
    return f"{threshold.op} {threshold.value:g}"


def run(ctx: CheckContext) -> list[CheckResult]:
    thresholds = ctx.criteria.metrics
    if not thresholds:
        return []
    names = [f"metric:{t.metric}" for t in thresholds]
    selector = ctx.usecase.evidence.metrics.get(ctx.stage.value)
    if selector is None:
        reason = (
            f"evidence.metrics.{ctx.stage.value}: no MLflow run selector declared; the "
            f"{ctx.stage.label} exit criteria compare MLflow metrics"
        )
        return [error_result(name, KIND, reason) for name in names]
    try:
        resolved = resolve_run_once(
            ctx.memo,
            selector,
            ctx.workspace.tracking_uri,
            model_name=ctx.usecase.model.name if ctx.usecase.model else None,
        )
    except EvidenceError as e:
        reason = f"evidence.metrics.{ctx.stage.value}: {e.message}"
        return [error_result(name, KIND, reason) for name in names]

    evidence = resolved.evidence(t.metric for t in thresholds)
    results = []
    for name, threshold in zip(names, thresholds, strict=True):
        expected = expected_text(threshold)
        value = resolved.metrics.get(threshold.metric)
        if value is None:
            reason = f"{resolved.describe()} has no metric {threshold.metric!r}"
            results.append(error_result(name, KIND, reason, evidence))
            continue
        if math.isnan(value):
            reason = f"{resolved.describe()} logged {threshold.metric!r} as NaN"
            results.append(
                CheckResult(name, KIND, Status.ERROR, reason, "NaN", expected, (evidence,))
            )
            continue
        met = _COMPARE[threshold.op](value, threshold.value)
        verdict = "meets" if met else "does not meet"
        reason = f"{threshold.metric} = {value:g} {verdict} {expected} ({resolved.describe()})"
        status = Status.PASS if met else Status.FAIL
        observed = json_number(value)  # an infinite value must still encode canonically
        results.append(CheckResult(name, KIND, status, reason, observed, expected, (evidence,)))
    return results
