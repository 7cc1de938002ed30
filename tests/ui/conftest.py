"""The UI tests' demo workspace (built once, copied per use), a real server on loopback,
and headless Debian Chromium driven by Playwright (no downloaded browser).

The browser fixture makes sure Chromium is there: it installs the Debian package when it
is missing and the tests run as root, and otherwise fails with what to do; it never skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from gates.ui.app import create_app
from gates.workspace.session import Session
from tests.report.demo_ledger import build_demo


@pytest.fixture(scope="session")
def ui_demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pristine demo workspace. Never modify it: copy it with ``copy_demo``."""
    return build_demo(tmp_path_factory.mktemp("ui-demo") / "workspace")


@pytest.fixture
def copy_demo(ui_demo_root: Path, tmp_path: Path) -> Callable[[], Path]:
    def copy() -> Path:
        target = tmp_path / f"workspace-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(ui_demo_root, target)
        return target

    return copy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(root: Path) -> Iterator[str]:
    """uvicorn serving the UI over ``root`` on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    app = create_app(lambda: Session.open(root))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the UI server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]


def ensure_chromium() -> Path:
    """Debian's chromium at /usr/bin/chromium, installed with apt-get if missing (as root)."""
    if CHROMIUM.is_file():
        return CHROMIUM
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.fail(
            f"{CHROMIUM} is missing and these tests are not running as root, so they cannot "
            "install it; install Debian's package first: sudo apt-get install -y chromium"
        )
    if shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            pytest.fail(
                f"`{' '.join(command)}` failed with exit code {done.returncode}; "
                f"cannot install Chromium:\n{done.stderr[-3000:]}"
            )
    if not CHROMIUM.is_file():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        # launch() gives every browser a new, empty temporary profile (user-data-dir).
        chromium = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class UiProcess:
    """``stagegate --workspace ROOT ui --port PORT`` in a child process, default (loopback) host."""

    def __init__(self, root: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = log.open("wb")
        env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gates.cli", "--workspace", str(root), "ui",
             "--port", str(self.port)],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"stagegate ui exited early:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"stagegate ui did not answer within 60 s:\n{log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path], UiProcess]]:
    """Start ``stagegate ui`` over a workspace; every server started is stopped at the end."""
    started: list[UiProcess] = []

    def start(root: Path) -> UiProcess:
        server = UiProcess(root, tmp_path / f"ui-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    tab.on("console", on_console)
    yield tab
    context.close()
    # A Content-Security-Policy refusal would show here: the pages need nothing it blocks.
    assert errors == []
