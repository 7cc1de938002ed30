"""Fixtures for check-kind tests: a real SQLite MLflow store, data files and check contexts."""

from __future__ import annotations

import contextlib
import csv
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from gates.checks.interface import CheckContext, StageView
from gates.policy import criteria_digest
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.settings import MlflowSettings, Settings
from gates.workspace.usecase import UseCaseSpec

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

#: "Now" for every context built here; the pilot started six weeks before it.
NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
PILOT_START = NOW - timedelta(weeks=6)
#: The PoC exit criteria require a quality bar; tests of other kinds get this one.
QUALITY_BAR = [{"metric": "accuracy", "op": ">=", "value": 0.85}]


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


@pytest.fixture(scope="module")
def mlflow_seed(tmp_path_factory: pytest.TempPathFactory) -> MlflowSeed:
    """One real SQLite tracking store per test module (creating it runs migrations, ~2 s)."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()  # creates the database now, not inside the first test
    return MlflowSeed(uri=uri, artifacts=folder / "artifacts", client=client)


@pytest.fixture(scope="module")
def mlflow_tracking_uri(mlflow_seed: MlflowSeed) -> str:
    return mlflow_seed.uri


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


MakeCtx = Callable[..., CheckContext]


@pytest.fixture
def make_ctx(tmp_path: Path) -> MakeCtx:
    """Build a CheckContext for one use case in a workspace at ``tmp_path``.

    ``criteria`` are overrides of the default policy for ``stage``; ``evidence``,
    ``budgets`` and ``model`` go into the use-case spec as a YAML file would hold them.
    """

    def build(
        *,
        stage: Stage = Stage.POC,
        criteria: dict[str, Any] | None = None,
        evidence: dict[str, Any] | None = None,
        budgets: dict[str, float] | None = None,
        model: dict[str, Any] | None = None,
        tracking_uri: str = "",
        entered_at: datetime | None = PILOT_START,
        now: datetime = NOW,
        currency: str = "USD",
    ) -> CheckContext:
        overrides = dict(criteria or {})
        if stage is Stage.POC:
            overrides.setdefault("metrics", QUALITY_BAR)
        spec: dict[str, Any] = {
            "id": "support-bot",
            "title": "Support answer drafting",
            "owner": "owner@example.com",
            "department": "support",
            "currency": currency,
            "budgets": budgets or {},
            "evidence": evidence or {},
            "criteria": {stage.value: overrides} if overrides else {},
        }
        if model is not None:
            spec["model"] = model
        usecase = UseCaseSpec.model_validate(spec)
        settings = Settings(mlflow=MlflowSettings(tracking_uri=tracking_uri))
        workspace = Workspace(root=tmp_path, settings=settings, usecases={usecase.id: usecase})
        effective = workspace.criteria(usecase, stage)
        return CheckContext(
            workspace=workspace,
            usecase=usecase,
            stage=stage,
            criteria=effective,
            criteria_digest=criteria_digest(effective),
            view=StageView(stage=stage, entered_at=entered_at, locked_digest=None),
            now=now,
        )

    return build


WriteRows = Callable[[str, list[dict[str, Any]]], str]


@pytest.fixture
def write_rows(tmp_path: Path) -> WriteRows:
    """Write rows as ``data/<name>`` (CSV, YAML or JSON by suffix) under the workspace.

    Returns the workspace-relative path a use-case spec would declare.
    """

    def write(name: str, rows: list[dict[str, Any]]) -> str:
        relative = f"data/{name}"
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".csv"):
            columns = list(rows[0]) if rows else []
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        elif name.endswith(".json"):
            path.write_text(json.dumps(rows), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(rows), encoding="utf-8")
        return relative

    return write


WriteText = Callable[[str, str], str]


@pytest.fixture
def write_text(tmp_path: Path) -> WriteText:
    """Write a raw text file under ``data/`` (for malformed inputs); returns its relative path."""

    def write(name: str, text: str) -> str:
        relative = f"data/{name}"
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return relative

    return write
