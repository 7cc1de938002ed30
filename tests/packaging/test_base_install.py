"""The base install, alone in a fresh environment, is all an auditor needs.

A wheel of this tree is installed without extras into a new virtual environment (from
PyPI, through uv when it is at hand, else pip). There, with none of the gate runtime
present, the auditor's commands verify a demo ledger built by the full environment,
export and verify a bundle, show status and write the report; the commands that need
the gate runtime or the local stack refuse with one message naming the extra.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from gates.demo.scenario import run_demo
from gates.stack.seaweedfs import SeaweedFS

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
#: What an auditor's install must not pull in: the gate runtime and the full MLflow.
GATE_RUNTIME = ("prefect", "great_expectations", "mlflow", "pandas", "pyarrow", "flask")


@dataclass(frozen=True)
class BaseEnv:
    python: Path
    stagegate: Path
    #: A folder outside the source tree, so nothing imports the code from there.
    cwd: Path

    def env(self) -> dict[str, str]:
        clean = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("UV_")
        }
        return {**clean, "NO_COLOR": "1", "COLUMNS": "200"}

    def run(
        self, *args: str | Path, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.stagegate), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env={**self.env(), **(env or {})},
            timeout=timeout,
        )

    def python_json(self, code: str) -> object:
        done = subprocess.run(
            [str(self.python), "-c", code],
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=self.env(),
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _uv() -> str | None:
    local = ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.is_file() else shutil.which("uv")


def _build_base_env(folder: Path) -> BaseEnv:
    venv = folder / "venv"
    uv = _uv()
    if uv is not None:
        # One wheel, then an install of it alone: the same as `pip install stagegate`.
        wheels = folder / "wheels"
        subprocess.run(
            [uv, "build", "--wheel", "--out-dir", str(wheels), str(ROOT)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (wheel,) = wheels.glob("stagegate-*.whl")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run(
            # Bytecode compiled once here, as pip does: each command then starts faster.
            [
                uv,
                "pip",
                "install",
                "--compile-bytecode",
                "--python",
                str(venv / "bin" / "python"),
                str(wheel),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
            check=True,
            timeout=900,
        )
    cwd = folder / "work"
    cwd.mkdir()
    return BaseEnv(venv / "bin" / "python", venv / "bin" / "stagegate", cwd)


@pytest.fixture(scope="session")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> BaseEnv:
    return _build_base_env(tmp_path_factory.mktemp("base-install"))


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, built by this (full) environment without Prefect."""
    root = tmp_path_factory.mktemp("base-install-demo") / "workspace"
    run_demo(root, use_prefect=False, console=Console(file=io.StringIO()))
    return root


def test_the_base_install_holds_no_gate_runtime(base_env: BaseEnv) -> None:
    found = base_env.python_json(
        "import importlib.metadata as m, importlib.util as u, json, gates;"
        f"print(json.dumps({{'present': [n for n in {list(GATE_RUNTIME)!r} if u.find_spec(n)],"
        "'distributions': sorted({d.metadata['Name'] for d in m.distributions()} - {'stagegate'}),"
        "'gates': gates.__file__}))"
    )
    assert isinstance(found, dict)
    assert found["present"] == []
    assert str(base_env.python.parent.parent) in found["gates"]  # the wheel, not this tree
    print(f"\nthe base install pulls in {len(found['distributions'])} packages")


def test_an_auditor_verifies_the_demo_ledger_with_the_base_install(
    base_env: BaseEnv, demo_ledger: Path
) -> None:
    done = base_env.run("--workspace", demo_ledger, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 chain(s), 20 entries: intact" in done.stdout


@pytest.mark.s3
def test_an_auditor_verifies_the_demo_ledger_on_s3_with_the_base_install(
    base_env: BaseEnv, demo_ledger: Path, seaweedfs: SeaweedFS, s3_bucket: str
) -> None:
    """The same signed objects in an S3 bucket, listed through boto3 and read in bulk
    through obstore, both of the base install."""
    client = seaweedfs.client()
    ledger = demo_ledger / "ledger"
    for path in sorted(p for p in ledger.rglob("*") if p.is_file()):
        key = f"ledger/{path.relative_to(ledger).as_posix()}"
        client.put_object(Bucket=s3_bucket, Key=key, Body=path.read_bytes())
    done = base_env.run(
        "--workspace",
        demo_ledger,
        "audit",
        "verify",
        env={"STAGEGATE_STORE": f"s3://{s3_bucket}/ledger"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 chain(s), 20 entries: intact" in done.stdout
    assert "bulk reads" not in done.stderr  # no fall-back to botocore: obstore is installed


def test_an_auditor_exports_and_verifies_a_bundle_with_the_base_install(
    base_env: BaseEnv, demo_ledger: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "support-bot.bundle"
    exported = base_env.run(
        "--workspace", demo_ledger, "audit", "export", "support-bot", "--out", bundle
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    verified = base_env.run("audit", "verify", "--bundle", bundle, "--trust", demo_ledger)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "bundle" in verified.stdout and "12 entries: intact" in verified.stdout


def test_status_log_keys_and_the_report_work_with_the_base_install(
    base_env: BaseEnv, demo_ledger: Path, tmp_path: Path
) -> None:
    status = base_env.run("--workspace", demo_ledger, "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    stages = {row["id"]: row["stage"] for row in json.loads(status.stdout)}
    assert stages == {"support-bot": "production", "invoice-ocr": "stopped"}

    log = base_env.run("--workspace", demo_ledger, "audit", "log", "support-bot")
    assert log.returncode == 0 and "gate Pilot → Production: pass" in log.stdout, log.stderr

    keys = base_env.run("--workspace", demo_ledger, "keys", "list")
    assert keys.returncode == 0 and "Sam Okafor" in keys.stdout, keys.stderr

    site = tmp_path / "site"
    report = base_env.run("--workspace", demo_ledger, "audit", "report", "--out", site)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "support-bot" in (site / "index.html").read_text("utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ui_process(base_env: BaseEnv, demo_ledger: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``stagegate ui`` on a free port, relaunched on another when a process takes the
    port before the UI binds it (the UI exits at once then)."""
    for _ in range(3):
        port = _free_port()
        server = subprocess.Popen(
            [str(base_env.stagegate), "--workspace", str(demo_ledger), "ui", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=base_env.cwd,
            env=base_env.env(),
        )
        deadline = time.monotonic() + 30
        while server.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return server, port
            time.sleep(0.1)
        if server.poll() is None:
            return server, port  # the test says what it does not answer
        said = server.stderr.read().decode(errors="replace") if server.stderr else ""
        if "address already in use" not in said.lower():
            pytest.fail(f"stagegate ui exited with code {server.returncode}:\n{said}")
    pytest.fail("stagegate ui lost its free port three times in a row")


@pytest.fixture
def ui_server(base_env: BaseEnv, demo_ledger: Path) -> Iterator[str]:
    server, port = _ui_process(base_env, demo_ledger)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_ui_serves_the_ledger_with_the_base_install(ui_server: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(ui_server, timeout=5) as answer:
                page = answer.read().decode("utf-8")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert "support-bot" in page and "invoice-ocr" in page


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (["promote", "support-bot", "--to", "scale"], "gate"),
        (["recheck", "--all"], "gate"),
        (["report", "monthly", "support-bot", "--month", "2026-11"], "gate"),
        (["serve"], "gate"),
        (["demo", "--workspace", "{tmp}/demo"], "gate"),
        (["stack", "up", "--dir", "{tmp}/stack"], "stack"),
        (["stack", "status", "--dir", "{tmp}/stack"], "stack"),
    ],
)
def test_a_command_needing_an_extra_names_it_without_a_traceback(
    base_env: BaseEnv, demo_ledger: Path, tmp_path: Path, command: list[str], extra: str
) -> None:
    workspace = tmp_path / "workspace"  # a copy: a command that ran would change it
    shutil.copytree(demo_ledger, workspace)
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    try:
        done = base_env.run("--workspace", workspace, *args)
    finally:
        if (tmp_path / "stack").exists():  # it started servers after all: stop them
            full = Path(sys.executable).parent / "stagegate"
            subprocess.run([full, "stack", "down", "--dir", tmp_path / "stack"], timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"pip install 'stagegate[{extra}]'" in done.stderr
    assert done.stderr.count("mlflow") == 1  # named once, though the stack checks it twice
    assert not (tmp_path / "demo").exists()  # refused before doing anything


def test_audit_verify_on_a_dask_cluster_without_the_extra_names_it(
    base_env: BaseEnv, demo_ledger: Path
) -> None:
    """Verification itself is the base install's; spreading it over Dask is the extra's."""
    done = base_env.run(
        "--workspace", demo_ledger, "audit", "verify", "--dask", "tcp://127.0.0.1:9"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "audit verify on a Dask cluster needs Dask support" in done.stderr
    assert "pip install 'stagegate[dask]'" in done.stderr


def test_a_missing_module_of_an_extra_becomes_the_message_naming_it(base_env: BaseEnv) -> None:
    """The net under commands that import a module of an extra without asking first."""
    found = base_env.python_json(
        "import json\n"
        "from gates.extras import missing_extra_error\n"
        "try:\n    import pandas\n"
        "except ModuleNotFoundError as e:\n"
        "    print(json.dumps(missing_extra_error(e, 'this command').diagnostics()))\n"
    )
    assert found == (
        "this command needs the gate and re-check runtime, which is not installed "
        "(missing: pandas)\n  hint: pip install 'stagegate[gate]'"
    )
