"""`stagegate promote` running the gate flow in its own process, as a user sees it in a terminal.

Each test runs the real command in a subprocess on a pseudo-terminal (Prefect and Rich
behave as they do for a person at a terminal), with its own ``PREFECT_HOME``, no CI
variables and no Prefect settings but those the test names.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from gates.workspace.session import Session
from tests.support.cli import STAGEGATE
from tests.support.presets import GATE_TIME, UC, gate_spec, gate_world, run_flow

pytestmark = pytest.mark.prefect

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Variables by which Prefect recognises a CI run and stays quiet by itself.
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "CI_NAME")
FLOW_RUN_LINE = re.compile(r"Prefect flow run ([0-9a-f-]{36})(?:: (\S+))?")


def terminal_run(args: list[str], env: dict[str, str], timeout: float = 240) -> tuple[int, str]:
    """Run ``args`` with stdout and stderr on a pseudo-terminal; exit code and plain text."""
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env
        )
        os.close(follower)
        code = process.wait(timeout=timeout)
        reader.join(timeout=10)
    finally:
        os.close(leader)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))
    return code, text.replace("\r\n", "\n")


def user_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    """A person's shell: no Prefect settings, not CI, a new Prefect home, a wide terminal."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") and k not in CI_VARIABLES and k != "DO_NOT_TRACK"
    }
    env.update(PREFECT_HOME=str(home), COLUMNS="200", TERM="xterm")
    # A new database is created and migrated on a first start: more than Prefect's 20 s
    # default on a busy machine.
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


def test_promote_without_a_prefect_api_says_a_temporary_server_starts_and_repeats_no_check(
    tmp_path: Path,
) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False)
    env = user_env(tmp_path / "prefect-home")
    (tmp_path / "tmp").mkdir()
    env["TMPDIR"] = str(tmp_path / "tmp")
    code, out = terminal_run(
        [*STAGEGATE, "--workspace", str(world.root), "promote", UC, "--to", "poc",
         "--at", GATE_TIME.isoformat()],
        env,
    )  # fmt: skip

    assert code == 1, out  # blocked: the sponsor's and budget owner's approvals are missing
    assert "starting a temporary Prefect server" in out
    assert "--in-process" in out and "stagegate stack up" in out and "PREFECT_API_URL" in out
    assert out.index("starting a temporary Prefect server") < out.index("gate (signed entry")
    # Prefect's first-run telemetry notice is not shown.
    assert "anonymous usage data" not in out
    # The failing checks are in our table and our summary, not again as Prefect log lines.
    assert "| WARNING |" not in out
    assert "approval:sponsor" in out
    # The flow run is named, without a link: the temporary server has no UI, and is gone.
    entry = world.state(UC).last_gate
    assert entry is not None and entry.predicate.gate is not None
    recorded = entry.predicate.gate.flow_run
    match = FLOW_RUN_LINE.search(out)
    assert match is not None, out
    assert match.group(1) == recorded
    assert match.group(2) is None
    # The server stopped with the command and took its log folder with it.
    assert not any((tmp_path / "tmp").glob("stagegate-prefect-*"))


def test_audit_show_names_the_flow_run_that_evaluated_a_gate(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False)
    run_flow(world)
    entry = world.state(UC).last_gate
    assert entry is not None and entry.predicate.gate is not None
    flow_run = entry.predicate.gate.flow_run
    assert flow_run

    shown = subprocess.run(
        [*STAGEGATE, "--workspace", str(world.root), "audit", "show", f"{UC}#{entry.sequence}"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )

    assert shown.returncode == 0, shown.stderr
    assert f"evaluated by Prefect flow run {flow_run}" in shown.stdout


def test_local_flow_against_a_running_prefect_api_prints_the_flow_runs_url(
    tmp_path: Path,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    api_url = get_current_settings().api.url  # the folder's Prefect test harness
    assert api_url
    world = gate_world(tmp_path / "ws", gate_spec())
    code, out = terminal_run(
        [*STAGEGATE, "--workspace", str(world.root), "promote", UC, "--to", "poc",
         "--local-flow", "--at", GATE_TIME.isoformat()],
        user_env(tmp_path / "prefect-home", api_url),
    )  # fmt: skip

    assert code == 0, out
    assert "temporary Prefect server" not in out
    match = FLOW_RUN_LINE.search(out)
    assert match is not None, out
    flow_run, url = match.groups()
    assert url == f"{api_url.removesuffix('/api')}/runs/flow-run/{flow_run}"
    with get_client(sync_client=True) as client:  # the run is named after the gate
        assert client.read_flow_run(uuid.UUID(flow_run)).name == f"gate-{UC}-to-poc"
    entry = Session.open(world.root).ledger.state(UC).last_gate
    assert entry is not None and entry.predicate.gate is not None
    assert entry.predicate.gate.flow_run == flow_run


def test_promote_json_carries_the_flow_run_and_its_link(tmp_path: Path) -> None:
    from prefect.settings import get_current_settings

    api_url = get_current_settings().api.url  # the folder's Prefect test harness
    assert api_url
    world = gate_world(tmp_path / "ws", gate_spec())
    result = subprocess.run(
        [*STAGEGATE, "--workspace", str(world.root), "promote", UC, "--to", "poc",
         "--local-flow", "--at", GATE_TIME.isoformat(), "--json"],
        capture_output=True, text=True, timeout=240,
        env=user_env(tmp_path / "prefect-home", api_url),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    entry = world.state(UC).last_gate
    assert entry is not None and entry.predicate.gate is not None
    assert shown["flowRun"] == entry.predicate.gate.flow_run is not None
    assert shown["flowRunUrl"] == f"{api_url.removesuffix('/api')}/runs/flow-run/{shown['flowRun']}"
