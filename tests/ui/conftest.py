"""The UI tests' demo workspace (built once, copied per use), Chromium and UI servers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.support.browser import CHROMIUM_ARGS, UiProcess, ensure_chromium
from tests.support.demo import build_demo


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
