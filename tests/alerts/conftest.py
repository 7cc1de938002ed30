"""A real webhook receiver on loopback, alert events, and a small signed ledger."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gates.alerts import WEBHOOK_ENV, AlertEvent, FailingCheck
from gates.ledger.entry import entry_key
from gates.signing.signers import Signer, load_signer
from gates.workspace.session import Session
from tests.ledger.conftest import build_workspace

NOW = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the webhook receiver answers, and every request it got."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    #: Answers in order; the last one repeats. 0: close the connection without one.
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int, delay: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.delay = delay

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with receiver.lock:
            receiver.requests.append(
                Received(self.command, self.path, dict(self.headers.items()), body)
            )
        status = receiver.next_status()
        if status == 0:
            self.close_connection = True
            return
        if receiver.delay:
            receiver.release.wait(receiver.delay)
        reply = b"ok" if status < 300 else b"invalid_token"
        try:
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1 that records each POST and answers as told."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver()
    host, port = server.server_address[:2]
    server.receiver.url = f"http://{host!s}:{port}/services/T000/B000/secret-token"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.receiver
    finally:
        server.receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def dead_url() -> str:
    """A loopback URL on a port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture(autouse=True)
def _no_ambient_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook URL in the developer's environment must not reach the tests."""
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)


def fail(check: str, status: str = "fail", **kw: Any) -> FailingCheck:
    return FailingCheck(check, status, kw.pop("reason", f"{check} is {status}"), **kw)


def make_event(**changes: Any) -> AlertEvent:
    """A failed nightly re-check of alpha in Production; ``changes`` replace fields."""
    base = AlertEvent(
        kind="recheck",
        usecase="alpha",
        title="Alpha assistant",
        stage="production",
        verdict="fail",
        target=None,
        checks=(
            fail("slo:availability", observed=0.995, expected=">= 0.999"),
            fail("cost:monthly", "warn", observed=850.0, expected="< 80% of 1000"),
        ),
        entry_key=entry_key("alpha", 7),
        sequence=7,
        time=NOW,
    )
    return replace(base, **changes)


@dataclass
class AlertLedger:
    """A real workspace with signed entries: the history the ``previous_*`` helpers read."""

    root: Path
    session: Session
    sponsor: Signer
    budget_owner: Signer


@pytest.fixture
def ledger(tmp_path: Path) -> AlertLedger:
    root = tmp_path / "ws"
    build_workspace(root)
    return AlertLedger(
        root=root,
        session=Session.open(root),
        sponsor=load_signer("file:keys/sponsor.pem", root),
        budget_owner=load_signer("file:keys/budget.pem", root),
    )
