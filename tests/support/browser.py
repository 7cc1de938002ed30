"""Headless Debian Chromium for the UI tests, and ``stagegate ui`` run as a child process.

Playwright drives the Debian package (no downloaded browser). ``ensure_chromium`` makes
sure it is there: it installs the package when it is missing and the tests run as root,
and otherwise fails with what to do; it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gates.stack.lifetime import end_with_this_process
from tests.support.ui_server import free_port

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


class UiProcess:
    """``stagegate --workspace ROOT ui --port PORT`` in a child process, default (loopback) host."""

    #: Launches on fresh free ports before a port that keeps being taken fails the test.
    PORT_ATTEMPTS = 3

    def __init__(self, root: Path, log: Path) -> None:
        self.log_path = log
        self.log = log.open("wb")
        for attempt in range(1, self.PORT_ATTEMPTS + 1):
            self._launch(root)
            if self._answers(last_attempt=attempt == self.PORT_ATTEMPTS):
                return

    def _launch(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_start = self.log_path.stat().st_size
        env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gates.cli", "--workspace", str(root), "ui",
             "--port", str(self.port)],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=end_with_this_process(),  # gone with the tests, even when they are killed
        )  # fmt: skip

    def _answers(self, *, last_attempt: bool) -> bool:
        """Wait until it answers; False when it lost its free port to another process
        before binding it (a fresh launch is due); fails the test otherwise."""
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                said = self.log_path.read_bytes()[self.log_start :].decode(errors="replace")
                if "address already in use" in said.lower() and not last_attempt:
                    return False
                self.stop()
                pytest.fail(f"stagegate ui exited early:\n{said}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"stagegate ui did not answer within 60 s:\n{self.log_path.read_text()}"
                )
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
