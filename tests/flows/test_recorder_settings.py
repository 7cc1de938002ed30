"""The task-run recorder settings given to Prefect servers stagegate starts (README: back to back)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, Settings

from flows.gate_flow import RECORDER_DEFAULTS_APPLIED
from gates.stack.prefect_server import RECORDER_BATCHING, PrefectServer, default_recorder_batching

pytestmark = pytest.mark.prefect

BATCH_SIZE = "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"
FLUSH_INTERVAL = "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL"


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Prefect settings as if nothing configured the recorder (this import did, in os.environ)."""
    for name in RECORDER_BATCHING:
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert not settings.server.services.task_run_recorder.model_fields_set
    return settings


def test_an_unconfigured_recorder_is_defaulted_to_batched_writes(unconfigured: Settings) -> None:
    environ: dict[str, str] = {}
    assert default_recorder_batching(environ, unconfigured) == RECORDER_BATCHING
    assert environ == RECORDER_BATCHING and set(environ) == {BATCH_SIZE, FLUSH_INTERVAL}
    # A whole number of seconds: Prefect truncates the interval with int(), and 0 spins.
    assert float(environ[FLUSH_INTERVAL]).is_integer() and int(environ[FLUSH_INTERVAL]) >= 1
    # Prefect's own default, which this replaces: one transaction per task-run event.
    assert unconfigured.server.services.task_run_recorder.batch_size == 1


@pytest.mark.parametrize("name", [BATCH_SIZE, FLUSH_INTERVAL])
def test_a_recorder_setting_made_elsewhere_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, unconfigured: Settings, name: str
) -> None:
    # Configured in the settings (environment, profile or prefect.toml alike) ...
    monkeypatch.setenv(name, "3")
    environ: dict[str, str] = {}
    assert default_recorder_batching(environ, Settings()) == {}
    assert environ == {}
    # ... or only present in the environment this process hands to its servers.
    environ = {name: "3"}
    assert default_recorder_batching(environ, unconfigured) == {}
    assert environ == {name: "3"}


def test_without_settings_only_the_environment_counts() -> None:
    environ = {"PREFECT_HOME": "/srv/prefect"}
    assert default_recorder_batching(environ) == RECORDER_BATCHING
    assert environ == {"PREFECT_HOME": "/srv/prefect", **RECORDER_BATCHING}
    environ = {FLUSH_INTERVAL: "5"}
    assert default_recorder_batching(environ) == {}
    assert environ == {FLUSH_INTERVAL: "5"}


def test_a_local_stack_server_batches_unless_its_environment_says_otherwise(
    tmp_path: Path,
) -> None:
    server = PrefectServer(tmp_path / "prefect", port=4200)
    env = server.environment({"PATH": "/usr/bin", "PREFECT_API_URL": "http://elsewhere/api"})
    assert {name: env[name] for name in RECORDER_BATCHING} == RECORDER_BATCHING
    assert "PREFECT_API_URL" not in env
    assert server.environment({BATCH_SIZE: "3"})[BATCH_SIZE] == "3"
    assert FLUSH_INTERVAL not in server.environment({BATCH_SIZE: "3"})


def test_the_server_this_process_started_records_task_runs_in_batches() -> None:
    if not RECORDER_DEFAULTS_APPLIED:
        pytest.skip("the recorder is configured in this environment")
    served = httpx.get(f"{PREFECT_API_URL.value()}/admin/settings", timeout=10).json()
    recorder = served["server"]["services"]["task_run_recorder"]
    assert recorder["batch_size"] == int(RECORDER_BATCHING[BATCH_SIZE])
    assert recorder["flush_interval"] == float(RECORDER_BATCHING[FLUSH_INTERVAL])
