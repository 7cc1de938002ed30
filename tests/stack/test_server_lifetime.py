"""Servers started for one process end with it, even when it is killed by a signal (Linux).

Each test starts a server the way the product or the test fixtures do, in a child Python
process, kills that process with SIGKILL (no ``stop()``, no ``atexit``), and checks that
nothing of the server's process group is left and its ports are free.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gates.stack.process import group_alive, port_in_use

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the kernel ends them only on Linux"
)

#: Each starter prints ``[server pid, [port it answers on, other ports it may open]]``
#: once the server answers, then waits.
STARTERS = {
    # The tests' session S3 (tests/conftest.py).
    "seaweedfs": """
from gates.stack.seaweedfs import SeaweedFS
server = SeaweedFS(Path(sys.argv[1]) / "s3").start()
s3_port = server.ports["s3.port"]
started = [server._process.pid, [s3_port, *{p for p in server.ports.values() if p != s3_port}]]
""",
    # `stagegate promote` without a Prefect API: the process's temporary server.
    "temporary prefect": """
from flows.prefect_api import flow_api
server = flow_api().temporary
server.wait_ready()
started = [server.pid, [server.port]]
""",
    # An MLflow tracking server, as the UI tests start one (with its uvicorn child).
    "mlflow": """
from gates.stack.mlflow_server import MLflowServer
server = MLflowServer(Path(sys.argv[1]) / "mlflow").start(timeout=180)
started = [server.pid, [server.port]]
""",
}
PREAMBLE = "import json, sys\nfrom pathlib import Path\n"
EPILOGUE = "print(json.dumps(started), flush=True)\nsys.stdin.read()\n"
#: Seconds a server gets to stop after its parent is killed: about one on an idle
#: machine (weed and uvicorn shut down gracefully on SIGTERM), more on a busy one.
GONE_WITHIN = 15.0


def read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no server started within {timeout:.0f} s"
    return process.stdout.readline()


@pytest.mark.parametrize("kind", list(STARTERS))
def test_a_server_ends_when_the_process_that_started_it_is_killed(
    kind: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # Whatever a killed parent leaves in the temporary folder stays in this test's.
    env.update(TMPDIR=str(tmp_path), PREFECT_HOME=str(tmp_path / "prefect-home"))
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    parent = subprocess.Popen(
        [sys.executable, "-c", PREAMBLE + STARTERS[kind] + EPILOGUE, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    server_pid = None
    try:
        line = read_line(parent, timeout=240)
        assert line, f"the starter exited with code {parent.wait(timeout=10)}"
        server_pid, ports = json.loads(line)
        assert group_alive(server_pid)
        assert port_in_use(ports[0])

        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + GONE_WITHIN
        while group_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)

        assert not group_alive(server_pid), f"the {kind} server outlived its parent"
        assert [p for p in ports if port_in_use(p)] == []
    finally:
        parent.kill()
        parent.wait(timeout=10)
        if server_pid is not None and group_alive(server_pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(server_pid, signal.SIGKILL)
        for stream in (parent.stdin, parent.stdout):
            if stream is not None:
                stream.close()
