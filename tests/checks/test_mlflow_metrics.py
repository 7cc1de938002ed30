"""The mlflow-metrics check against a real SQLite MLflow store: selection, verdicts, failures."""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gates.canonical import canonical_json
from gates.checks import mlflow_metrics
from gates.checks.interface import CheckContext
from gates.errors import EvidenceError
from gates.evidence.mlflow_source import (
    FAIL_FAST_HTTP_ENV,
    ResolvedRun,
    client_for,
    find_model_version,
    resolve_run,
)
from gates.results import CheckResult, Status
from gates.stages import Stage
from gates.workspace.usecase import RunSelector

if TYPE_CHECKING:
    from tests.support.check_context import MakeCtx
    from tests.support.mlflow import MlflowSeed

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


def poc_ctx(
    make_ctx: MakeCtx,
    uri: str,
    selector: dict[str, Any] | None,
    metrics: list[dict[str, Any]] | None = None,
    model: dict[str, Any] | None = None,
) -> CheckContext:
    evidence = {"metrics": {"poc": selector}} if selector is not None else {}
    criteria = {"metrics": metrics} if metrics is not None else None
    return make_ctx(
        stage=Stage.POC, criteria=criteria, evidence=evidence, tracking_uri=uri, model=model
    )


def only(results: list[CheckResult]) -> CheckResult:
    assert len(results) == 1, results
    return results[0]


def test_metric_meeting_the_bar_passes_and_binds_the_run(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    name, exp = mlflow_seed.experiment()
    run_id = mlflow_seed.run(exp, {"accuracy": 0.91, "loss": 0.2})

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})))

    assert result.status is Status.PASS
    assert result.check == "metric:accuracy"
    assert result.kind == "mlflow-metrics"
    assert result.observed == pytest.approx(0.91)
    assert result.expected == ">= 0.85"
    (evidence,) = result.evidence
    assert evidence.kind == "mlflow-run"
    assert evidence.uri == f"runs:/{run_id}"
    assert evidence.details["metrics"] == {"accuracy": pytest.approx(0.91)}
    assert evidence.details["experiment"] == name
    assert evidence.digest is not None and evidence.digest.startswith("sha256:")
    canonical_json(result.to_json())  # the result must be signable as is


def test_metric_below_the_bar_fails_with_observed_and_expected(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    name, exp = mlflow_seed.experiment()
    mlflow_seed.run(exp, {"accuracy": 0.80})

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})))

    assert result.status is Status.FAIL
    assert result.observed == pytest.approx(0.80)
    assert "does not meet >= 0.85" in result.reason


def test_each_threshold_gets_its_own_result(make_ctx: MakeCtx, mlflow_seed: MlflowSeed) -> None:
    name, exp = mlflow_seed.experiment()
    mlflow_seed.run(exp, {"accuracy": 0.9, "latency_p95_ms": 450.0, "errors": 0.0})
    bar = [
        {"metric": "accuracy", "op": ">=", "value": 0.85},
        {"metric": "latency_p95_ms", "op": "<", "value": 400},
        {"metric": "errors", "op": "==", "value": 0},
    ]

    results = mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name}, bar))

    assert [(r.check, r.status) for r in results] == [
        ("metric:accuracy", Status.PASS),
        ("metric:latency_p95_ms", Status.FAIL),
        ("metric:errors", Status.PASS),
    ]
    assert results[1].expected == "< 400"


def test_latest_finished_run_is_chosen_over_newer_running_and_failed_runs(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    name, exp = mlflow_seed.experiment()
    older = mlflow_seed.run(exp, {"accuracy": 0.70}, start_time=NOW - timedelta(days=3))
    chosen = mlflow_seed.run(exp, {"accuracy": 0.90}, start_time=NOW - timedelta(days=2))
    mlflow_seed.run(exp, {"accuracy": 0.40}, status="FAILED", start_time=NOW - timedelta(days=1))
    mlflow_seed.run(exp, {"accuracy": 0.50}, status="RUNNING", start_time=NOW - timedelta(hours=1))

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})))

    assert result.status is Status.PASS
    assert result.evidence[0].uri == f"runs:/{chosen}"
    assert older not in result.reason


def test_tag_filter_picks_the_latest_finished_run_with_all_tags(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    name, exp = mlflow_seed.experiment()
    wanted = mlflow_seed.run(
        exp,
        {"accuracy": 0.92},
        tags={"usecase": "support-bot", "split": "test"},
        start_time=NOW - timedelta(days=2),
    )
    mlflow_seed.run(
        exp,
        {"accuracy": 0.60},
        tags={"usecase": "support-bot", "split": "train"},
        start_time=NOW - timedelta(days=1),
    )
    mlflow_seed.run(exp, {"accuracy": 0.50}, tags={"usecase": "other"}, start_time=NOW)
    selector = {"experiment": name, "tags": {"usecase": "support-bot", "split": "test"}}

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, selector)))

    assert result.status is Status.PASS
    assert result.evidence[0].details["run_id"] == wanted


def test_tag_filter_matching_no_run_is_error(make_ctx: MakeCtx, mlflow_seed: MlflowSeed) -> None:
    name, exp = mlflow_seed.experiment()
    mlflow_seed.run(exp, {"accuracy": 0.95}, tags={"split": "train"})
    selector = {"experiment": name, "tags": {"split": "test"}}

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, selector)))

    assert result.status is Status.ERROR
    assert "no FINISHED run with the required tags" in result.reason
    assert "split=test" in result.reason


def test_model_version_selector_reads_the_versions_source_run(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    _, exp = mlflow_seed.experiment()
    source = mlflow_seed.run(exp, {"accuracy": 0.88})
    mlflow_seed.run(exp, {"accuracy": 0.10}, start_time=NOW)  # newer, but not registered
    model = f"support-bot-{source[:6]}"
    version = mlflow_seed.register(model, source)

    selector = {"model": f"models:/{model}/{version}"}
    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, selector)))

    assert result.status is Status.PASS
    assert result.observed == pytest.approx(0.88)
    details = result.evidence[0].details
    assert details["run_id"] == source
    assert details["model_version"] == f"models:/{model}/{version}"


def test_run_chosen_by_id_is_tied_to_the_use_cases_registered_version(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    _, exp = mlflow_seed.experiment()
    run_id = mlflow_seed.run(exp, {"accuracy": 0.9})
    model = f"bot-{run_id[:6]}"
    mlflow_seed.register(model, mlflow_seed.run(exp, {"accuracy": 0.5}))  # version 1: other run
    version = mlflow_seed.register(model, run_id)  # version 2: this run

    ctx = poc_ctx(make_ctx, mlflow_seed.uri, {"run_id": run_id}, model={"name": model})
    result = only(mlflow_metrics.run(ctx))

    assert version == "2"
    assert result.evidence[0].details["model_version"] == f"models:/{model}/2"
    assert f"models:/{model}/2" in result.reason
    client = client_for(mlflow_seed.uri)
    assert find_model_version(client, model, run_id) == "2"
    assert find_model_version(client, model, "0" * 32) is None


def test_metric_missing_from_the_run_is_error_naming_run_and_metric(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    name, exp = mlflow_seed.experiment()
    run_id = mlflow_seed.run(exp, {"f1": 0.9})

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})))

    assert result.status is Status.ERROR
    assert f"run {run_id} has no metric 'accuracy'" in result.reason
    assert result.evidence[0].details["missing_metrics"] == ["accuracy"]


def test_nan_metric_is_error_not_a_comparison(make_ctx: MakeCtx, mlflow_seed: MlflowSeed) -> None:
    name, exp = mlflow_seed.experiment()
    mlflow_seed.run(exp, {"accuracy": math.nan})

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})))

    assert result.status is Status.ERROR
    assert "NaN" in result.reason
    canonical_json(result.to_json())  # NaN must not leak into signed JSON


def test_missing_run_selector_is_error_naming_the_evidence_field(
    make_ctx: MakeCtx, mlflow_tracking_uri: str
) -> None:
    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_tracking_uri, None)))

    assert result.status is Status.ERROR
    assert "evidence.metrics.poc" in result.reason


def test_unknown_experiment_is_error_naming_selector_and_store(
    make_ctx: MakeCtx, mlflow_tracking_uri: str
) -> None:
    ctx = poc_ctx(make_ctx, mlflow_tracking_uri, {"experiment": "no-such-experiment"})

    result = only(mlflow_metrics.run(ctx))

    assert result.status is Status.ERROR
    assert "experiment 'no-such-experiment'" in result.reason
    assert "experiment not found" in result.reason
    assert mlflow_tracking_uri in result.reason


def test_unknown_run_id_is_error(make_ctx: MakeCtx, mlflow_tracking_uri: str) -> None:
    ctx = poc_ctx(make_ctx, mlflow_tracking_uri, {"run_id": "0" * 32})

    result = only(mlflow_metrics.run(ctx))

    assert result.status is Status.ERROR
    assert "run_id '" + "0" * 32 in result.reason
    assert "not found" in result.reason


def test_unknown_model_version_is_error(make_ctx: MakeCtx, mlflow_tracking_uri: str) -> None:
    ctx = poc_ctx(make_ctx, mlflow_tracking_uri, {"model": "models:/never-registered/3"})

    result = only(mlflow_metrics.run(ctx))

    assert result.status is Status.ERROR
    assert "models:/never-registered/3" in result.reason


def test_run_pinned_by_id_that_is_still_running_is_error(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    _, exp = mlflow_seed.experiment()
    run_id = mlflow_seed.run(exp, {"accuracy": 0.99}, status="RUNNING")

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"run_id": run_id})))

    assert result.status is Status.ERROR
    assert "RUNNING, not FINISHED" in result.reason


def test_unreachable_tracking_server_is_error_within_seconds(
    make_ctx: MakeCtx, closed_port: int
) -> None:
    uri = f"http://127.0.0.1:{closed_port}"
    preset = {name: os.environ.get(name) for name in FAIL_FAST_HTTP_ENV}
    metrics = [
        {"metric": "accuracy", "op": ">=", "value": 0.85},
        {"metric": "latency_ms", "op": "<=", "value": 300},
    ]

    started = time.monotonic()
    results = mlflow_metrics.run(poc_ctx(make_ctx, uri, {"experiment": "churn"}, metrics))
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert [r.status for r in results] == [Status.ERROR, Status.ERROR]
    assert "unreachable" in results[0].reason
    assert uri in results[0].reason
    assert "experiment 'churn'" in results[0].reason
    # The fail-fast settings are scoped to the call, not left in the process environment.
    assert {name: os.environ.get(name) for name in FAIL_FAST_HTTP_ENV} == preset


def test_missing_sqlite_database_is_error_and_is_not_created(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    database = tmp_path / "typo" / "mlflow.db"
    ctx = poc_ctx(make_ctx, f"sqlite:///{database}", {"experiment": "churn"})

    result = only(mlflow_metrics.run(ctx))

    assert result.status is Status.ERROR
    assert "does not exist" in result.reason
    assert not database.exists()


def test_empty_tracking_uri_is_error(make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    result = only(mlflow_metrics.run(poc_ctx(make_ctx, "", {"experiment": "churn"})))

    assert result.status is Status.ERROR
    assert "no MLflow tracking URI" in result.reason


def test_run_is_read_once_per_gate_and_afresh_for_the_next(
    make_ctx: MakeCtx, mlflow_seed: MlflowSeed
) -> None:
    name, exp = mlflow_seed.experiment()
    run_id = mlflow_seed.run(exp, {"accuracy": 0.80})
    ctx = poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})
    first = only(mlflow_metrics.run(ctx))

    mlflow_seed.client.log_metric(run_id, "accuracy", 0.95)  # a later value
    same_gate = only(mlflow_metrics.run(ctx))
    next_gate = only(mlflow_metrics.run(poc_ctx(make_ctx, mlflow_seed.uri, {"experiment": name})))

    assert first.status is same_gate.status is Status.FAIL
    assert any(isinstance(value, ResolvedRun) for value in ctx.memo.values())
    assert next_gate.status is Status.PASS


def test_stage_without_metric_criteria_yields_no_results(
    make_ctx: MakeCtx, mlflow_tracking_uri: str
) -> None:
    ctx = make_ctx(stage=Stage.PILOT, tracking_uri=mlflow_tracking_uri)

    assert mlflow_metrics.run(ctx) == []


def test_resolve_run_raises_evidence_error_for_a_deleted_experiment(
    mlflow_seed: MlflowSeed,
) -> None:
    name, exp = mlflow_seed.experiment()
    mlflow_seed.run(exp, {"accuracy": 0.9})
    mlflow_seed.client.delete_experiment(exp)

    with pytest.raises(EvidenceError, match="experiment not found"):
        resolve_run(RunSelector(experiment=name), mlflow_seed.uri)


def test_in_memory_sqlite_store_is_error(make_ctx: MakeCtx) -> None:
    result = only(mlflow_metrics.run(poc_ctx(make_ctx, "sqlite://", {"experiment": "churn"})))

    assert result.status is Status.ERROR
    assert "in-memory SQLite store" in result.reason
