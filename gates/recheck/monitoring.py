"""Production monitoring as one series of periodic observations, from MLflow and/or data.

A monitoring job logs one MLflow run per period (metrics availability, latency_p50_ms,
latency_p95_ms, latency_p99_ms, error_rate, quality_score, cost, major_incidents) or
appends one row per period to an operational dataset with the same columns and a
``date`` column. Both become ``Observation``s, bound by evidence (run ids and metric
values, dataset digest and GX statistics), and are judged together by ``health``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gates.checks.interface import CheckContext
from gates.errors import EvidenceError
from gates.results import CheckResult, Evidence, Status
from gates.workspace.usecase import MonitoringEvidence

METRICS = (
    "availability",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "error_rate",
    "quality_score",
    "cost",
    "major_incidents",
    "requests",
)
#: Most recent runs read from a monitoring experiment (a year of daily runs).
MAX_RUNS = 400


@dataclass(frozen=True)
class Observation:
    at: datetime
    values: dict[str, float]
    source: str


@dataclass(frozen=True)
class Series:
    """Observations inside the window, oldest first, with the evidence they came from."""

    observations: tuple[Observation, ...]
    evidence: tuple[Evidence, ...]
    #: Results of validating operational datasets with their GX suite (must pass).
    validations: tuple[CheckResult, ...] = field(default=())

    def values(self, metric: str) -> list[tuple[datetime, float]]:
        return [
            (o.at, o.values[metric])
            for o in self.observations
            if metric in o.values and not math.isnan(o.values[metric])
        ]


def load_series(ctx: CheckContext, monitoring: MonitoringEvidence, window_days: int) -> Series:
    """Every observation of the last ``window_days``; EvidenceError if a source is down."""
    since = ctx.now - timedelta(days=window_days)
    observations: list[Observation] = []
    evidence: list[Evidence] = []
    validations: list[CheckResult] = []
    if monitoring.experiment:
        obs, ev = _from_mlflow(ctx, monitoring, since)
        observations += obs
        evidence.append(ev)
    if monitoring.dataset:
        obs, ev, validation = _from_dataset(ctx, monitoring, since)
        observations += obs
        evidence.append(ev)
        validations.append(validation)
    observations.sort(key=lambda o: o.at)
    return Series(tuple(observations), tuple(evidence), tuple(validations))


def _from_mlflow(
    ctx: CheckContext, monitoring: MonitoringEvidence, since: datetime
) -> tuple[list[Observation], Evidence]:
    from gates.evidence.mlflow_source import client_for, mlflow_errors, redact_uri, run_filter

    tracking_uri = ctx.workspace.tracking_uri
    name = monitoring.experiment or ""
    where = f"evidence.monitoring.experiment {name!r} at {redact_uri(tracking_uri)}"
    try:
        client = client_for(tracking_uri)
    except EvidenceError as e:
        raise EvidenceError(f"{where}: {e.message}", hint=e.hint) from e
    with mlflow_errors(where):
        experiment = client.get_experiment_by_name(name)
        if experiment is None or experiment.lifecycle_stage != "active":
            raise EvidenceError(f"{where}: experiment not found")
        since_ms = int(since.timestamp() * 1000)
        until_ms = int(ctx.now.timestamp() * 1000)
        filter_string = run_filter(monitoring.tags) + (
            f" and attributes.start_time >= {since_ms} and attributes.start_time <= {until_ms}"
        )
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=filter_string,
            order_by=["attributes.start_time DESC"],
            max_results=MAX_RUNS,
        )
    observations = [
        Observation(
            at=datetime.fromtimestamp(run.info.start_time / 1000, UTC),
            values={k: float(v) for k, v in run.data.metrics.items() if k in METRICS},
            source=f"runs:/{run.info.run_id}",
        )
        for run in runs
    ]
    evidence = Evidence(
        kind="mlflow-monitoring",
        uri=f"{redact_uri(tracking_uri)}#experiment={name}",
        details={
            "experimentId": str(experiment.experiment_id),
            "runs": [o.source.removeprefix("runs:/") for o in observations],
            "since": since.isoformat(),
        },
    )
    return observations, evidence


def _from_dataset(
    ctx: CheckContext, monitoring: MonitoringEvidence, since: datetime
) -> tuple[list[Observation], Evidence, CheckResult]:
    import pandas as pd

    from gates.checks.expectations import check_dataset, load_once
    from gates.policy.model import DatasetExpectation

    name = monitoring.dataset or ""
    field_name = "evidence.monitoring.dataset"
    declared = ctx.usecase.evidence.datasets.get(name)
    if declared is None:
        raise EvidenceError(
            f"{field_name}: names dataset {name!r}, which is not declared under evidence.datasets"
        )
    validation = check_dataset(ctx, DatasetExpectation(dataset=name, suite=monitoring.suite))
    try:
        dataset = load_once(ctx, ctx.workspace.evidence_path(declared))  # the bytes GX validated
    except EvidenceError as e:
        raise EvidenceError(f"{field_name} (dataset {name!r}): {e.message}") from e
    frame = dataset.frame
    if "date" not in frame.columns:
        raise EvidenceError(f"{field_name} ({dataset.uri}): no 'date' column")
    try:
        stamps = pd.to_datetime(frame["date"], utc=True)
    except (ValueError, TypeError) as e:
        raise EvidenceError(f"{field_name} ({dataset.uri}): 'date' is not a date ({e})") from e
    # Whole columns as Python lists: a pandas row per observation costs more than the rest.
    columns = {c: frame[c].tolist() for c in METRICS if c in frame.columns}
    observations = []
    for index, stamp in enumerate(stamps):
        at = stamp.to_pydatetime()
        if not since <= at <= ctx.now:
            continue
        values: dict[str, float] = {}
        for column, cells in columns.items():
            value = _number(cells[index])
            if value is not None:
                values[column] = value
        observations.append(Observation(at=at, values=values, source=dataset.uri))
    return observations, dataset.evidence(role="monitoring"), validation


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def error_results(names: list[str], kind: str, reason: str) -> list[CheckResult]:
    """Every health check becomes an error when its source cannot be read: never a pass."""
    return [CheckResult(name, kind, Status.ERROR, reason) for name in names]
