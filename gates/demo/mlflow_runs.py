"""Log the demo's model runs to a real MLflow tracking store and register versions."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path


def log_run(
    tracking_uri: str,
    artifacts: Path,
    experiment: str,
    metrics: dict[str, float],
    when: datetime,
    *,
    params: dict[str, str] | None = None,
    register_as: str | None = None,
) -> tuple[str, str | None]:
    """A FINISHED run with ``metrics`` at ``when``; optionally a new registered model version."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = (
        found.experiment_id
        if found
        else client.create_experiment(
            experiment, artifact_location=(artifacts / experiment).as_uri()
        )
    )
    millis = int(when.timestamp() * 1000)
    run = client.create_run(experiment_id, start_time=millis, tags={"stage": "poc"})
    run_id = run.info.run_id
    for param, text in (params or {}).items():
        client.log_param(run_id, param, text)
    for metric, number in metrics.items():
        client.log_metric(run_id, metric, number, timestamp=millis)
    client.set_terminated(run_id, "FINISHED", end_time=millis + 60_000)
    if register_as is None:
        return run_id, None
    with contextlib.suppress(MlflowException):  # already registered by an earlier run
        client.create_registered_model(register_as)
    version = client.create_model_version(
        register_as, source=f"runs:/{run_id}/model", run_id=run_id
    )
    return run_id, str(version.version)
