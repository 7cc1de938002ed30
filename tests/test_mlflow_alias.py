"""Moving a registered-model alias after a passing gate, against a real SQLite MLflow registry."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gates.errors import EvidenceError
from gates.promotion import move_alias
from tests.support.ports import refusing_port

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


@dataclass
class Registry:
    uri: str
    client: MlflowClient

    def model_with_versions(self, count: int) -> str:
        """A new registered model with ``count`` versions, each from its own finished run."""
        name = f"bot-{uuid.uuid4().hex[:8]}"
        experiment_id = self.client.create_experiment(name)
        self.client.create_registered_model(name)
        for _ in range(count):
            run = self.client.create_run(experiment_id)
            self.client.set_terminated(run.info.run_id)
            self.client.create_model_version(
                name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
            )
        return name


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """One real SQLite tracking store and registry for the module (migrations take seconds)."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow-registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_registered_models()
    return Registry(uri=uri, client=client)


def test_alias_move_is_visible_via_get_model_version_by_alias(registry: Registry) -> None:
    # The SQLite registry returns versions as int although MLflow annotates them as str.
    name = registry.model_with_versions(2)

    move_alias(registry.uri, name, "pilot", "1")
    assert str(registry.client.get_model_version_by_alias(name, "pilot").version) == "1"

    move_alias(registry.uri, name, "pilot", "2")
    assert str(registry.client.get_model_version_by_alias(name, "pilot").version) == "2"


def test_aliases_of_different_stages_move_independently(registry: Registry) -> None:
    name = registry.model_with_versions(2)

    move_alias(registry.uri, name, "production", "1")
    move_alias(registry.uri, name, "pilot", "2")

    assert str(registry.client.get_model_version_by_alias(name, "production").version) == "1"
    assert str(registry.client.get_model_version_by_alias(name, "pilot").version) == "2"


def test_alias_move_to_unknown_version_is_evidence_error_and_moves_nothing(
    registry: Registry,
) -> None:
    name = registry.model_with_versions(1)
    move_alias(registry.uri, name, "production", "1")

    with pytest.raises(EvidenceError, match=rf"models:/{name}/7") as caught:
        move_alias(registry.uri, name, "production", "7")

    assert registry.uri in caught.value.message
    assert str(registry.client.get_model_version_by_alias(name, "production").version) == "1"


def test_alias_move_for_unknown_model_is_evidence_error(registry: Registry) -> None:
    with pytest.raises(EvidenceError, match="models:/never-registered/1"):
        move_alias(registry.uri, "never-registered", "pilot", "1")


def test_alias_move_against_unreachable_server_fails_fast() -> None:
    with refusing_port() as port:
        uri = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        with pytest.raises(EvidenceError, match="unreachable") as caught:
            move_alias(uri, "bot", "pilot", "1")

    assert time.monotonic() - started < 5
    assert uri in caught.value.message


def test_alias_move_with_no_tracking_uri_is_evidence_error() -> None:
    with pytest.raises(EvidenceError, match="no MLflow tracking URI"):
        move_alias("", "bot", "pilot", "1")


def test_alias_move_to_missing_sqlite_store_is_evidence_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="does not exist"):
        move_alias(f"sqlite:///{tmp_path / 'absent.db'}", "bot", "pilot", "1")
