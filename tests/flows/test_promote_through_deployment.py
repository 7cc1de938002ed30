"""`stagegate promote` with a Prefect API: the gate service signs, the engineer holds no key.

A real `prefect server start` on loopback; `stagegate serve` runs as a subprocess for
the gate service's workspace (which holds the gate key). The engineer's workspace is a
copy of it without the gate key, reading the same ledger folder; the engineer runs
`stagegate promote` in a subprocess with only PREFECT_API_URL pointing at the server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.deployments import PROMOTE
from gates.stack.lifetime import end_with_this_process
from gates.stack.prefect_server import PrefectServer
from gates.stages import Stage, next_stage
from gates.workspace.session import Session
from tests.flows.test_deployments import STAGEGATE, Served, client_env, wait_for_deployments
from tests.support.presets import GATE_TIME, UC, gate_spec, gate_world
from tests.support.world import World

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` for this module (in place of the folder's harness)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        PrefectServer(tmp_path_factory.mktemp("prefect-server")) as server,
        temporary_settings(updates={PREFECT_API_URL: server.api_url}),
    ):
        yield server.api_url


@dataclass
class Promoter:
    """The engineer: a copy of the gate service's workspace without the gate key."""

    root: Path
    home: Path
    api: str

    def promote(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*STAGEGATE, "--workspace", str(self.root), "promote", UC, *args],
            env=client_env(self.home, self.api),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
        )


def service_world(root: Path) -> World:
    """The gate service's workspace; its ledger is a folder the engineer's copy shares."""
    return gate_world(root / "service", gate_spec(), store=str(root / "ledger"))


def engineer_copy(service: World, root: Path, api: str) -> Promoter:
    copy = root / "engineer"
    shutil.copytree(service.root, copy)
    (copy / "keys" / "gate.pem").unlink()
    assert (copy / "keys" / "gate.pub").is_file()  # verifying needs the public key only
    return Promoter(copy, root / "engineer-home", api)


def test_promote_without_a_served_deployment_says_to_start_the_gate_service(
    prefect_api: str, tmp_path: Path
) -> None:
    # Runs before the module's `serve` starts: the server has no deployments yet.
    engineer = engineer_copy(service_world(tmp_path), tmp_path, prefect_api)

    result = engineer.promote("--to", "poc", "--at", GATE_TIME.isoformat())

    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert f"no deployment {PROMOTE.flow_name}/{PROMOTE.name}" in message
    assert "stagegate serve" in message
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def service(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("service")
    world = service_world(base)
    log = base / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*STAGEGATE, "--workspace", str(world.root), "serve"],
            env=client_env(base / "service-home", prefect_api),
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


def test_promote_runs_on_the_gate_service_and_the_engineer_needs_no_gate_key(
    service: Served, prefect_api: str
) -> None:
    from prefect.client.orchestration import get_client

    engineer = engineer_copy(service.world, service.world.root.parent, prefect_api)

    result = engineer.promote("--to", "poc", "--at", GATE_TIME.isoformat())

    assert result.returncode == 0, result.stdout + result.stderr + service.log.read_text()
    ui = prefect_api.removesuffix("/api")
    found = re.search(rf"{re.escape(ui)}/runs/flow-run/([0-9a-f-]{{36}})", result.stdout)
    assert found, result.stdout
    run_id = found.group(1)
    assert "PASS" in result.stdout and "now in PoC" in result.stdout

    session = Session.open(engineer.root)
    state = session.ledger.state(UC)
    assert state.stage is Stage.POC
    entry = state.history[-1]
    assert entry.predicate.gate is not None
    assert entry.predicate.gate.flow_run == run_id
    # Signed by the gate key, which only the service's workspace holds.
    gate_keyid = next(k for k, signer in session.trust.by_keyid.items() if signer.name == "gate")
    assert entry.signer_keyids == {gate_keyid}
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        deployment = client.read_deployment_by_name(f"{PROMOTE.flow_name}/{PROMOTE.name}")
    assert run.deployment_id == deployment.id
    assert run.parameters["workspace"] == str(service.world.root)

    # Again: the gate service finds the recorded pass and writes nothing new.
    again = engineer.promote("--to", "poc", "--at", GATE_TIME.isoformat())

    assert again.returncode == 0, again.stdout + again.stderr
    said = " ".join(again.stdout.split())
    assert f"found the existing gate entry #{entry.sequence}" in said
    assert session.ledger.state(UC).entries == state.entries


def test_a_promotion_run_that_fails_is_exit_2_with_its_state_message(
    service: Served, prefect_api: str, tmp_path: Path
) -> None:
    engineer = engineer_copy(service.world, tmp_path, prefect_api)
    before = Session.open(engineer.root).ledger.state(UC).entries

    result = engineer.promote("--to", "production", "--at", GATE_TIME.isoformat())

    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "ended Failed" in message
    assert "stages move one at a time" in message
    assert "/runs/flow-run/" in message
    assert Session.open(engineer.root).ledger.state(UC).entries == before


def test_local_flow_signs_in_this_process_so_it_needs_the_gate_key_here(
    service: Served, prefect_api: str, tmp_path: Path
) -> None:
    engineer = engineer_copy(service.world, tmp_path, prefect_api)
    state = Session.open(engineer.root).ledger.state(UC)
    assert state.stage is not None
    target = next_stage(state.stage)
    assert target is not None

    result = engineer.promote("--to", target.value, "--local-flow", "--at", GATE_TIME.isoformat())

    assert result.returncode == 2, result.stdout + result.stderr
    assert "submitted to the gate service" not in result.stdout + result.stderr
    # The command's own message names the missing key (Prefect logs the failed task
    # run on its own above it).
    error = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert "keys/gate.pem" in error
    assert Session.open(engineer.root).ledger.state(UC).entries == state.entries
