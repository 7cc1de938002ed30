"""`stagegate stack`: the real servers come up, answer, keep their promises, and go away.

One stack serves the module (it takes ~15-25 s to start); the failure tests start their
own, in their own folders, and check that nothing of them is left running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gates.stack.lifetime import end_with_this_process
from gates.stack.local_stack import STATE_FILE
from gates.stack.process import port_in_use, stop_groups

pytestmark = [
    pytest.mark.s3,
    pytest.mark.prefect,
    # Leftover processes and listening sockets are found through /proc.
    pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc"),
]

STAGEGATE = [sys.executable, "-m", "gates.cli"]
SERVICE_NAMES = ["s3", "mlflow", "prefect"]


def stagegate(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run(
        [*STAGEGATE, *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def processes_in(folder: Path) -> list[int]:
    """Live processes whose working directory is inside ``folder`` (each server runs in
    its own data folder), so a leftover is found even when no state file names it."""
    found = []
    folder = folder.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = (entry / "cwd").resolve(strict=True)
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and cwd.is_relative_to(folder):
            found.append(int(entry.name))
    return found


def _live(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def exports(text: str) -> dict[str, str]:
    """``export NAME=VALUE`` lines (values need no unquoting here) as a dict."""
    pairs = [line.removeprefix("export ").split("=", 1) for line in text.splitlines()]
    return {name: value for name, value in pairs}


@dataclass
class RunningStack:
    dir: Path
    state: dict[str, Any]
    env: dict[str, str]

    def port(self, service: str) -> int:
        return int(self.state["services"][service]["port"])


def _emergency_stop(stack_dir: Path) -> None:
    # If `down` itself is broken, the servers must still not outlive the tests.
    state_file = stack_dir / STATE_FILE
    if state_file.is_file():
        services = json.loads(state_file.read_text())["services"]
        stop_groups({n: (s["pid"], s["startTime"]) for n, s in services.items()}, timeout=10)


#: Waits for SIGTERM (blocked from the start, so none is missed), then stops the stack.
GUARD = (
    "import signal, subprocess, sys\n"
    "signal.sigwait({signal.SIGTERM})\n"
    "subprocess.run([sys.executable, '-m', 'gates.cli', 'stack', 'down', '--dir', sys.argv[1]])\n"
)


def guard(stack_dir: Path) -> subprocess.Popen[bytes]:
    """A process that stops the stack in ``stack_dir`` when this test process ends, even
    when it is killed: the stack's servers outlive the ``stack up`` that starts them by
    design, so nothing else would stop them (``gates.stack.lifetime``)."""
    tie = end_with_this_process()

    def block_sigterm_and_tie() -> None:
        # The blocked signal stays blocked across exec, until the guard waits for it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        if tie is not None:
            tie()

    return subprocess.Popen(
        [sys.executable, "-c", GUARD, str(stack_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        preexec_fn=block_sigterm_and_tie,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack_dir = tmp_path_factory.mktemp("stack") / "data"
    stopper = guard(stack_dir)
    up = stagegate("stack", "up", "--dir", str(stack_dir), "--json")
    try:
        assert up.returncode == 0, up.stderr
        assert json.loads(up.stdout)["alreadyUp"] is False
        state = json.loads((stack_dir / STATE_FILE).read_text())
        env = stagegate("stack", "env", "--dir", str(stack_dir))
        assert env.returncode == 0, env.stderr
        yield RunningStack(stack_dir, state, exports(env.stdout))
    finally:
        stagegate("stack", "down", "--dir", str(stack_dir))
        _emergency_stop(stack_dir)
        stopper.kill()  # SIGKILL: it must not run `stack down` again
        stopper.wait(timeout=10)


def s3_client(env: dict[str, str]) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


# -- a running stack -----------------------------------------------------------------------


def test_status_json_reports_every_service_alive_and_healthy(stack: RunningStack) -> None:
    result = stagegate("stack", "status", "--dir", str(stack.dir), "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["up"] is True
    assert status["dir"] == str(stack.dir)
    assert status["bucket"] == "s3://stagegate/ledger"
    assert [s["name"] for s in status["services"]] == SERVICE_NAMES
    for service in status["services"]:
        assert set(service) == {"name", "pid", "alive", "port", "url", "healthy", "log"}
        assert service["alive"] is True and service["healthy"] is True
        assert service["url"].startswith(f"http://127.0.0.1:{service['port']}")
        assert Path(service["log"]).is_file()
        assert Path(service["log"]).is_relative_to(stack.dir)


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_every_service_listens_on_loopback_only(stack: RunningStack) -> None:
    ports = [stack.port(name) for name in SERVICE_NAMES]
    ports += stack.state["services"]["s3"]["otherPorts"]
    for port in ports:
        # 0100007F is 127.0.0.1 as /proc/net/tcp writes it; nothing on 0.0.0.0 or ::.
        assert listening_addresses(port) <= {"0100007F"}, port
    assert all(listening_addresses(p) for p in ports[:3])


def test_env_points_clients_at_the_stack(stack: RunningStack) -> None:
    assert set(stack.env) == {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "MLFLOW_TRACKING_URI",
        "PREFECT_API_URL",
        "STAGEGATE_STORE",
    }
    assert stack.env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{stack.port('s3')}"
    assert stack.env["MLFLOW_TRACKING_URI"] == f"http://127.0.0.1:{stack.port('mlflow')}"
    assert stack.env["PREFECT_API_URL"] == f"http://127.0.0.1:{stack.port('prefect')}/api"
    assert stack.env["STAGEGATE_STORE"] == "s3://stagegate/ledger"


def test_the_ledger_bucket_has_versioning_and_object_lock(stack: RunningStack) -> None:
    from botocore.exceptions import ClientError

    client = s3_client(stack.env)
    assert client.get_bucket_versioning(Bucket="stagegate")["Status"] == "Enabled"
    lock = client.get_object_lock_configuration(Bucket="stagegate")["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    # And it holds: a version under retention cannot be deleted.
    key = f"ledger/probe-{uuid.uuid4().hex}"
    put = client.put_object(
        Bucket="stagegate",
        Key=key,
        Body=b"entry",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate="2099-01-01T00:00:00Z",
    )
    with pytest.raises(ClientError):
        client.delete_object(Bucket="stagegate", Key=key, VersionId=put["VersionId"])


def test_the_s3_credentials_are_required(stack: RunningStack) -> None:
    from botocore.exceptions import ClientError

    wrong = {**stack.env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    with pytest.raises(ClientError):
        s3_client(wrong).list_buckets()


def test_an_mlflow_run_logged_through_the_server_reads_back(
    stack: RunningStack, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=stack.env["MLFLOW_TRACKING_URI"])
    experiment = client.create_experiment(f"stack-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "accuracy", 0.87)
    report = tmp_path / "report.md"
    report.write_text("# quality\n")
    client.log_artifact(run.info.run_id, str(report))
    client.set_terminated(run.info.run_id)

    again = client.get_run(run.info.run_id)
    assert again.data.metrics["accuracy"] == 0.87
    assert again.info.status == "FINISHED"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["report.md"]
    # Artifacts are proxied by the server into the stack's folder.
    assert list((stack.dir / "mlflow" / "artifacts").rglob("report.md"))


def test_the_prefect_api_answers_with_batched_task_run_recording(stack: RunningStack) -> None:
    import httpx

    api = stack.env["PREFECT_API_URL"]
    assert httpx.get(f"{api}/health", timeout=10).json() is True
    settings = httpx.get(f"{api}/admin/settings", timeout=10).json()
    recorder = settings["server"]["services"]["task_run_recorder"]
    assert (recorder["batch_size"], recorder["flush_interval"]) == (10, 1)
    assert Path(settings["home"]) == stack.dir / "prefect"


def test_up_when_up_says_so_and_starts_nothing(stack: RunningStack) -> None:
    result = stagegate("stack", "up", "--dir", str(stack.dir))
    assert result.returncode == 0, result.stderr
    assert "already up" in result.stdout
    state = json.loads((stack.dir / STATE_FILE).read_text())
    assert state["services"] == stack.state["services"]


def test_a_service_that_died_shows_in_status_and_up_restarts_only_it(
    stack: RunningStack,
) -> None:
    mlflow = stack.state["services"]["mlflow"]
    stop_groups({"mlflow": (mlflow["pid"], mlflow["startTime"])}, timeout=20)

    status = stagegate("stack", "status", "--dir", str(stack.dir), "--json")
    assert status.returncode == 1
    assert json.loads(status.stdout)["up"] is False
    services = {s["name"]: s for s in json.loads(status.stdout)["services"]}
    assert (services["mlflow"]["alive"], services["mlflow"]["healthy"]) == (False, False)
    assert services["s3"]["healthy"] and services["prefect"]["healthy"]

    again = stagegate("stack", "up", "--dir", str(stack.dir), "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["up"], result["alreadyUp"], result["restarted"]) == (True, False, ["mlflow"])
    after = json.loads((stack.dir / STATE_FILE).read_text())["services"]
    # The others kept running; MLflow came back on its former port, so clients that
    # kept the old environment still reach it.
    for name in ("s3", "prefect"):
        assert after[name] == stack.state["services"][name]
    assert after["mlflow"]["port"] == mlflow["port"]
    assert after["mlflow"]["pid"] != mlflow["pid"]


def test_down_stops_every_process_and_frees_every_port(stack: RunningStack) -> None:
    # Runs last in this module: it takes the shared stack down.
    state = json.loads((stack.dir / STATE_FILE).read_text())
    pids = [s["pid"] for s in state["services"].values()]
    ports = [int(state["services"][name]["port"]) for name in SERVICE_NAMES]
    ports += state["services"]["s3"]["otherPorts"]
    assert processes_in(stack.dir)

    result = stagegate("stack", "down", "--dir", str(stack.dir), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stopped"] == dict.fromkeys(SERVICE_NAMES, "stopped")
    assert not (stack.dir / STATE_FILE).exists()
    assert processes_in(stack.dir) == []
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists() and _live(pid)] == []
    assert [p for p in ports if port_in_use(p)] == []
    # The data stays for the next `up`.
    assert (stack.dir / "mlflow" / "mlflow.db").is_file()
    assert (stack.dir / "prefect" / "prefect.db").is_file()

    status = stagegate("stack", "status", "--dir", str(stack.dir), "--json")
    assert status.returncode == 1
    assert json.loads(status.stdout) == {
        "dir": str(stack.dir),
        "up": False,
        "startedAt": None,
        "bucket": None,
        "services": [],
    }


# -- failures --------------------------------------------------------------------------------


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    stack_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = stagegate("stack", "up", "--dir", str(stack_dir), "--mlflow-port", str(port))
    assert result.returncode == 2
    assert f"port {port} for the MLflow tracking server is already in use" in result.stderr
    assert "--mlflow-port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (stack_dir / STATE_FILE).exists()
    assert processes_in(stack_dir) == []


def test_ports_picked_free_and_taken_before_the_servers_bind_them_are_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stack up`` picks free ports and the servers bind them seconds later; another
    process may take them in between (here: listening sockets of this one, opened as
    soon as the ports are chosen). Each server moves to a free port, and the stack
    records where it ended up."""
    from gates.stack import local_stack

    stack_dir = tmp_path / "data"
    taken: dict[str, socket.socket] = {}
    choose_ports = local_stack._choose_ports

    def choose_then_take(*args: Any, **kwargs: Any) -> dict[str, int]:
        ports = choose_ports(*args, **kwargs)
        for name, port in ports.items():
            taken[name] = socket.socket()
            taken[name].bind(("127.0.0.1", port))
            taken[name].listen()
        return ports

    monkeypatch.setattr(local_stack, "_choose_ports", choose_then_take)
    stopper = guard(stack_dir)
    try:
        result = local_stack.stack_up(stack_dir)
        lost = {name: s.getsockname()[1] for name, s in taken.items()}
        assert sorted(lost) == sorted(SERVICE_NAMES)
        for name, record in result.state.services.items():
            assert record.port != lost[name], name
            assert str(record.port) in record.url
        status = local_stack.stack_status(stack_dir)
        assert status.up, status.to_json()
        logs = {
            name: Path(record.log).read_text() for name, record in result.state.services.items()
        }
        assert "address already in use" in logs["mlflow"].lower()
        assert f"Port {lost['prefect']} is already in use" in logs["prefect"]
    finally:
        for s in taken.values():
            s.close()
        local_stack.stack_down(stack_dir)
        _emergency_stop(stack_dir)
        stopper.kill()
        stopper.wait(timeout=10)
    assert processes_in(stack_dir) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--bucket", "Ledger_Bucket"], "--bucket: 'Ledger_Bucket' is not an S3 bucket name"),
        (["--s3-port", "70000"], "--s3-port: 70000 is not a TCP port"),
        (["--s3-port", "{port}", "--prefect-port", "{port}"], "is also the port of"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(
    tmp_path: Path, options: list[str], message: str
) -> None:
    from gates.stack.process import free_ports

    port = str(free_ports(1)[0])
    stack_dir = tmp_path / "data"
    args = [option.format(port=port) for option in options]
    result = stagegate("stack", "up", "--dir", str(stack_dir), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (stack_dir / STATE_FILE).exists()
    assert processes_in(stack_dir) == []


def test_a_service_that_fails_to_start_is_named_and_the_others_are_stopped(
    tmp_path: Path,
) -> None:
    from gates.stack.process import free_ports

    stack_dir = tmp_path / "data"
    # A Prefect database that is not one: the server exits while starting.
    (stack_dir / "prefect").mkdir(parents=True)
    (stack_dir / "prefect" / "prefect.db").write_text("not a database\n")
    ports = free_ports(3)
    try:
        result = stagegate(
            "stack", "up", "--dir", str(stack_dir),
            "--s3-port", str(ports[0]), "--mlflow-port", str(ports[1]),
            "--prefect-port", str(ports[2]),
        )  # fmt: skip
        assert result.returncode == 2
        first_line = result.stderr.splitlines()[0]
        assert "the Prefect server exited with code" in first_line
        assert str(stack_dir / "prefect" / "prefect.log") in first_line
        assert "file is not a database" in result.stderr  # the log's tail
        assert "the services this command started were stopped" in result.stderr
        assert not (stack_dir / STATE_FILE).exists()
        assert processes_in(stack_dir) == []
        assert [p for p in ports if port_in_use(p)] == []
    finally:
        for pid in processes_in(stack_dir):
            os.kill(pid, signal.SIGKILL)


def test_status_env_and_down_without_a_stack(tmp_path: Path) -> None:
    stack_dir = tmp_path / "nothing-here"
    status = stagegate("stack", "status", "--dir", str(stack_dir))
    assert status.returncode == 1
    assert "not running" in status.stdout
    env = stagegate("stack", "env", "--dir", str(stack_dir))
    assert env.returncode == 2
    assert f"no stack is running in {stack_dir}" in env.stderr
    assert "stagegate stack up" in env.stderr
    down = stagegate("stack", "down", "--dir", str(stack_dir))
    assert down.returncode == 0
    assert "not running" in down.stdout
