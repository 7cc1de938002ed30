"""A real SQLite MLflow tracking store and registry, and the runs tests write into it."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


def sqlite_tracking_store(folder: Path) -> str:
    """The URI of a new SQLite tracking store and registry in ``folder``, created now
    (its migrations take seconds) rather than inside the first test that uses it."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models()
    return uri


@dataclass
class MlflowSeed:
    """Writes experiments, runs and model versions into the test tracking store."""

    uri: str
    artifacts: Path
    client: MlflowClient

    def experiment(self, prefix: str = "exp") -> tuple[str, str]:
        """A new experiment with a unique name; returns ``(name, id)``."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        experiment_id = self.client.create_experiment(
            name, artifact_location=(self.artifacts / name).as_uri()
        )
        return name, experiment_id

    def run(
        self,
        experiment_id: str,
        metrics: dict[str, float],
        *,
        status: str = "FINISHED",
        tags: dict[str, str] | None = None,
        start_time: datetime | None = None,
    ) -> str:
        started = int(start_time.timestamp() * 1000) if start_time else None
        run = self.client.create_run(experiment_id, start_time=started, tags=tags or {})
        for key, value in metrics.items():
            self.client.log_metric(run.info.run_id, key, value)
        if status != "RUNNING":
            self.client.set_terminated(run.info.run_id, status)
        return run.info.run_id

    def register(self, model_name: str, run_id: str) -> str:
        """Register a new version of ``model_name`` whose source run is ``run_id``."""
        from mlflow.exceptions import MlflowException

        with contextlib.suppress(MlflowException):  # already registered by an earlier call
            self.client.create_registered_model(model_name)
        version = self.client.create_model_version(
            model_name, source=f"runs:/{run_id}/model", run_id=run_id
        )
        return str(version.version)

    @classmethod
    def create(cls, folder: Path) -> MlflowSeed:
        """A new SQLite store in ``folder``, run artifacts beside it."""
        from mlflow.tracking import MlflowClient

        uri = sqlite_tracking_store(folder)
        return cls(uri, folder / "artifacts", MlflowClient(tracking_uri=uri, registry_uri=uri))
