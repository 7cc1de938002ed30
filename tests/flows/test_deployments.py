"""The Prefect deployments, served by `stagegate serve` against a real `prefect server start`.

The server is started by the local stack's launcher on a free loopback port with its
own PREFECT_HOME; `stagegate serve` runs as a subprocess against it; a promotion is
triggered through the Prefect API and must land, signed, in the workspace's ledger.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from flows.deployments import DEPLOYMENTS, NIGHTLY, PROMOTE, build_deployments
from gates.errors import ConfigError
from gates.stack.lifetime import end_with_this_process
from gates.stack.prefect_server import PrefectServer
from gates.stack.process import free_ports, stop_groups
from gates.stages import Stage
from gates.workspace.session import Session
from gates.workspace.settings import ScheduleSettings
from tests.support.presets import GATE_TIME, UC, gate_spec, gate_world
from tests.support.world import World

pytestmark = pytest.mark.prefect

PREFECT_YAML = Path(__file__).parents[2] / "infra" / "prefect" / "prefect.yaml"
STAGEGATE = [sys.executable, "-m", "gates.cli"]
#: Not the default, so the test sees the workspace's settings rather than a fallback.
CRON, TIMEZONE = "30 3 * * 1-5", "Asia/Seoul"


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` for this module (in place of the folder's harness).

    In-process clients in these tests talk to it; the server stops when the module ends.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        PrefectServer(tmp_path_factory.mktemp("prefect-server")) as server,
        temporary_settings(updates={PREFECT_API_URL: server.api_url}),
    ):
        yield server.api_url


def client_env(home: Path, api_url: str | None) -> dict[str, str]:
    """A clean environment for a `stagegate` subprocess: its own Prefect home, no
    workspace from the caller, and only the Prefect API given here."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") and k != "STAGEGATE_WORKSPACE"
    }
    home.mkdir(parents=True, exist_ok=True)
    env["PREFECT_HOME"] = str(home)
    # Served deployments look for due runs this often (Prefect's default is 10 s).
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


@dataclass
class Served:
    """`stagegate serve` running for a workspace ready for its Explore gate."""

    world: World
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM to serve and every flow run it started; SIGKILL if they linger."""
        stop_groups({"serve": (self.process.pid, None)}, timeout=20)
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def served(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("served")
    world = gate_world(base / "ws", gate_spec())
    with (world.root / "stagegate.toml").open("a") as settings:
        settings.write(f'\n[schedule]\ncron = "{CRON}"\ntimezone = "{TIMEZONE}"\n')
    log = base / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*STAGEGATE, "--workspace", str(world.root), "serve"],
            env=client_env(base / "client-home", prefect_api),
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the flow runs it starts are stopped with it
            preexec_fn=end_with_this_process(),  # gone with the tests, even when they are killed
        )
    serving = Served(world, process, log)
    try:
        wait_for_deployments(process, log)
        yield serving
    finally:
        serving.stop()


def wait_for_deployments(serving: subprocess.Popen[bytes], log: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as client:
        while True:
            assert serving.poll() is None, f"stagegate serve exited:\n{log.read_text()}"
            try:
                for spec in DEPLOYMENTS:
                    client.read_deployment_by_name(f"{spec.flow_name}/{spec.name}")
                return
            except ObjectNotFound:
                pass
            assert time.monotonic() < deadline, f"no deployments after 120 s:\n{log.read_text()}"
            time.sleep(0.5)


def scheduled_starts(deployment_id: Any, wait: float = 60) -> list[datetime]:
    """Start times of the runs the server scheduled for a deployment (it does so within
    seconds of the deployment being created)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    deadline = time.monotonic() + wait
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
            starts = [r.expected_start_time for r in runs if r.state and r.state.is_scheduled()]
            if starts or time.monotonic() > deadline:
                return [s for s in starts if s is not None]
            time.sleep(1)


def run_log_levels(flow_run_id: Any, wait: float = 20) -> set[int]:
    """Levels of the logs a flow run sent to the API (they arrive in batches)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + wait
    wanted = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        while True:
            levels = {log.level for log in client.read_logs(log_filter=wanted)}
            if logging.INFO in levels or time.monotonic() > deadline:
                return levels
            time.sleep(0.5)


def read_deployment(spec: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(f"{spec.flow_name}/{spec.name}")


# -- served against a real server ------------------------------------------------------------


def test_a_promotion_triggered_through_the_api_lands_in_the_ledger(
    served: Served,
) -> None:
    from prefect.deployments import run_deployment

    before = served.world.state(UC)
    assert before.stage is Stage.EXPLORE

    run = run_deployment(
        f"{PROMOTE.flow_name}/{PROMOTE.name}",
        parameters={"usecase": UC, "to": "poc", "now": GATE_TIME.isoformat()},
        timeout=180,
        poll_interval=1,
    )

    assert run.state is not None and run.state.is_completed(), run.state
    assert run.parameters["workspace"] == str(served.world.root)  # preset by the deployment
    state = Session.open(served.world.root).ledger.state(UC)
    assert state.stage is Stage.POC
    assert state.entries == before.entries + 1
    gate = state.history[-1].predicate.gate
    assert gate is not None
    assert (gate.from_stage, gate.to_stage, gate.verdict) == ("explore", "poc", "pass")
    # A served run reports to the UI at Prefect's usual level, not the CLI's quiet one.
    assert logging.INFO in run_log_levels(run.id)


def test_the_nightly_deployment_runs_on_the_workspace_cron_and_timezone(
    served: Served,
) -> None:
    deployment = read_deployment(NIGHTLY)
    assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
        (CRON, TIMEZONE)
    ]
    assert all(s.active for s in deployment.schedules)
    assert deployment.paused is False
    assert deployment.parameters == {"workspace": str(served.world.root)}
    assert deployment.entrypoint == NIGHTLY.entrypoint

    # The server's scheduler turns the schedule into runs: 03:30 in Seoul, weekdays only.
    starts = scheduled_starts(deployment.id)
    assert starts
    for start in starts:
        local = start.astimezone(ZoneInfo(TIMEZONE))
        assert (local.hour, local.minute, local.second) == (3, 30, 0)
        assert local.isoweekday() <= 5


def test_the_promotion_deployment_has_no_schedule(served: Served) -> None:
    deployment = read_deployment(PROMOTE)
    assert deployment.schedules == []
    assert deployment.parameters == {"workspace": str(served.world.root)}
    assert deployment.entrypoint == PROMOTE.entrypoint
    # usecase and to must be given per run; the schema enforces it.
    assert set(deployment.parameter_openapi_schema["required"]) == {"usecase", "to"}


def test_stopping_serve_pauses_the_nightly_schedule(served: Served) -> None:
    # Runs last of the served tests: it stops `stagegate serve`. While nothing executes
    # the runs, none pile up; the next `serve` resumes the schedule.
    assert read_deployment(NIGHTLY).paused is False
    served.stop()
    assert served.process.returncode == 0, served.log.read_text()
    assert read_deployment(NIGHTLY).paused is True


# -- refusals ----------------------------------------------------------------------------------


def test_serve_without_a_prefect_api_url_is_refused(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec())
    result = subprocess.run(
        [*STAGEGATE, "--workspace", str(world.root), "serve"],
        env=client_env(tmp_path / "home", None),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PREFECT_API_URL is not set" in result.stderr
    assert "stagegate stack up" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_against_a_prefect_api_that_does_not_answer_is_refused(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec())
    nobody = f"http://127.0.0.1:{free_ports(1)[0]}/api"
    result = subprocess.run(
        [*STAGEGATE, "--workspace", str(world.root), "serve"],
        env=client_env(tmp_path / "home", nobody),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"the Prefect API at {nobody} (PREFECT_API_URL) did not answer" in result.stderr


def test_an_invalid_schedule_is_a_config_error_naming_the_settings_file(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec())
    with (world.root / "stagegate.toml").open("a") as settings:
        settings.write('\n[schedule]\ncron = "0 2 * * *"\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError) as raised:
        build_deployments(world.root)
    assert raised.value.source == str(world.root / "stagegate.toml")
    assert "Mars/Olympus" in raised.value.message


# -- prefect.yaml ------------------------------------------------------------------------------


def test_prefect_yaml_declares_the_deployments_the_code_serves(tmp_path: Path) -> None:
    from prefect.flows import load_flow_from_entrypoint

    declared = {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"]}
    world = gate_world(tmp_path / "ws", gate_spec())  # default [schedule] settings
    built = {d.name: d for d in build_deployments(world.root)}
    assert set(declared) == set(built) == {spec.name for spec in DEPLOYMENTS}

    for spec in DEPLOYMENTS:
        yaml_deployment, code = declared[spec.name], built[spec.name]
        assert yaml_deployment["entrypoint"] == code.entrypoint == spec.entrypoint
        assert load_flow_from_entrypoint(spec.entrypoint).name == spec.flow_name == code.flow_name
        assert yaml_deployment["tags"] == code.tags == list(spec.tags)
        assert " ".join(yaml_deployment["description"].split()) == code.description
        assert set(yaml_deployment["parameters"]) == set(code.parameters) == {"workspace"}
        yaml_schedules = [(s["cron"], s["timezone"]) for s in yaml_deployment.get("schedules", [])]
        code_schedules = [(s.schedule.cron, s.schedule.timezone) for s in code.schedules]
        assert yaml_schedules == code_schedules

    defaults = ScheduleSettings()
    assert [(s["cron"], s["timezone"]) for s in declared[NIGHTLY.name]["schedules"]] == [
        (defaults.cron, defaults.timezone)
    ]


def test_prefect_yaml_is_valid_for_prefect_deploy() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text()))
    assert [d.name for d in model.deployments] == [spec.name for spec in DEPLOYMENTS]
    assert {d.work_pool.name for d in model.deployments if d.work_pool} == {"stagegate"}
