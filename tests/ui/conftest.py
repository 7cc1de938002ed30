"""The UI tests' demo workspace (built once, copied per use) and a real server on loopback."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

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
