"""The UI end to end: the real ``stagegate ui`` command, served on loopback, read in Chromium.

Headless Debian Chromium driven by Playwright (no downloaded browser). The fixture makes
sure Chromium is there: it installs the Debian package when it is missing and the tests
run as root, and otherwise fails with what to do; it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.support.forge import flip_payload_byte
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


def test_the_index_lists_the_demo_use_cases(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], page: Page, tmp_path: Path
) -> None:
    server = serve(ui_demo_root)
    page.goto(server.url)
    expect(page).to_have_title("Use cases · stagegate audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Use cases")
    table = page.get_by_role("table").first
    expect(table.get_by_role("link", name="support-bot")).to_be_visible()
    expect(table.get_by_role("link", name="invoice-ocr")).to_be_visible()
    expect(table).to_contain_text("Customer support assistant")
    expect(table).to_contain_text("Production")
    expect(table).to_contain_text("Stopped")
    expect(page.get_by_role("status")).to_contain_text("Verified: the ledger is intact")
    # Inline styles apply under the page's CSP: the banner is green, not unstyled.
    colour = page.locator(".banner .ok").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(220, 252, 231)"
    expect(page.locator("svg.chart")).to_have_count(3)
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)


def test_a_timeline_page_shows_the_blocked_and_the_passed_gates(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], page: Page, tmp_path: Path
) -> None:
    server = serve(ui_demo_root)
    page.goto(server.url)
    page.get_by_role("link", name="support-bot").first.click()
    expect(page).to_have_url(f"{server.url}/usecases/support-bot")
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer support assistant")
    timeline = page.get_by_role("table").filter(has_text="Every signed entry of the chain")
    rows = timeline.locator("tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.nth(5)).to_contain_text("gate PoC → Pilot: blocked (metric:accuracy)")
    expect(rows.nth(5)).to_contain_text("blocked")
    expect(rows.nth(6)).to_contain_text("gate PoC → Pilot: pass")
    expect(rows.nth(9)).to_contain_text("blocked (pilot:satisfaction)")
    expect(rows.nth(10)).to_contain_text("gate Pilot → Production: pass")
    expect(rows.nth(11)).to_contain_text("re-check of Production: warn")
    page.screenshot(path=str(tmp_path / "usecase.png"), full_page=True)

    rows.nth(5).get_by_role("link", name="#5").click()
    expect(page).to_have_url(f"{server.url}/entries/support-bot/5")
    failing = page.get_by_role("row").filter(has_text="metric:accuracy")
    expect(failing).to_contain_text("fail")
    expect(failing).to_contain_text(">= 0.85")
    expect(page.get_by_text("signature verified")).to_be_visible()


def test_a_tampered_entry_shows_in_the_banner_naming_the_entry(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], page: Page, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(ui_demo_root, root)
    server = serve(root)
    page.goto(server.url)
    expect(page.get_by_role("status")).to_contain_text("intact")

    flip_payload_byte(root, "support-bot", 3)
    page.reload()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Verification failed")
    expect(alert).to_contain_text("in the ledger")
    # The flipped entry is named first; later entries of the chain fail in its wake.
    violation = alert.get_by_role("row").filter(has_text="signature-invalid")
    expect(violation).to_have_count(1)
    expect(violation).to_contain_text("support-bot")
    expect(violation).to_contain_text("no valid signature by a trusted key")
    expect(violation.get_by_role("link", name="#3")).to_be_visible()

    page.get_by_role("link", name="support-bot").first.click()
    expect(page.get_by_role("alert").first).to_contain_text("the chain of support-bot")
    expect(page.get_by_role("alert").first).to_contain_text("signature-invalid")

    page.get_by_role("alert").first.get_by_role("link", name="#3").click()
    expect(page).to_have_url(f"{server.url}/entries/support-bot/3")
    expect(page.get_by_text("This entry fails verification.")).to_be_visible()
    expect(page.get_by_text("nothing in them is shown")).to_be_visible()
