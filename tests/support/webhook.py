"""A real webhook receiver on loopback that records each POST and answers as told."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1 in a thread, stopped when the block ends."""
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
