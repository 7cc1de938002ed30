"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real S3 server (SeaweedFS).

It forwards every request to the server and relays the answer, except when told to
lose answers: then a matching request (say, the PUT of a ledger entry) still reaches
the server, which acts on it, but the client's connection is closed without the
answer. ``lose_answers(..., then_gone=True)`` also makes "the server gone": every open
connection is dropped and new ones are refused until ``restore()``.

Requests are parsed just enough to forward them one at a time on keep-alive
connections (head, then a ``Content-Length`` body); answers are read with
``http.client`` and relayed with a ``Content-Length``. ``Expect: 100-continue`` is
answered by the proxy itself (the header is not signed, so dropping it keeps the
request's signature valid).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

#: Decides from the request's method and path whether its answer is lost.
Matcher = Callable[[str, str], bool]

_HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}


@dataclass
class LostAnswer:
    """One request whose answer was thrown away."""

    method: str
    path: str
    #: What the server answered; 0 when the request was dropped before reaching it.
    status: int


@dataclass
class LossyProxy:
    """Forward to ``upstream`` (``http://host:port``); lose answers when told to."""

    upstream: str
    port: int = 0
    lost: list[LostAnswer] = field(default_factory=list)

    def __post_init__(self) -> None:
        split = urlsplit(self.upstream)
        self._upstream = (split.hostname or "127.0.0.1", split.port or 80)
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._remaining = 0
        self._then_gone = False
        self._reach_server = True
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    # -- control ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lose_answers(
        self,
        matcher: Matcher,
        *,
        times: int = 1,
        then_gone: bool = False,
        reach_server: bool = True,
    ) -> None:
        """Lose the answers to the next ``times`` matching requests.

        The server still acts on them, unless ``reach_server`` is False: then the
        requests are dropped before they are forwarded. With ``then_gone``, losing the
        last one also drops every connection and refuses new ones, as if the server had
        gone away, until ``restore()``.
        """
        with self._lock:
            self._matcher, self._remaining = matcher, times
            self._then_gone, self._reach_server = then_gone, reach_server

    def restore(self) -> None:
        """Forward everything again, listening on the same port if the server was gone."""
        with self._lock:
            self._matcher, self._remaining = None, 0
            gone = self._listener is None
        if gone:
            self._listen()

    @property
    def gone(self) -> bool:
        return self._listener is None

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._listen()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.go_away()
        for thread in self._threads:
            thread.join(timeout=5)

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        self._start(self._accept, listener)

    def go_away(self) -> None:
        """Refuse new connections and drop the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            clients, self._clients = self._clients, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for client in clients:
            _drop(client)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: the server is gone
            with self._lock:
                if self._listener is not listener:
                    _drop(client)
                    return
                self._clients.add(client)
            self._start(self._serve, client)

    # -- one client connection ----------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        reader = client.makefile("rb")
        try:
            while True:
                request = _read_request(reader, client)
                if request is None:
                    return
                method, path, headers, body = request
                if not self._reaches_server(method, path):
                    self.lost.append(LostAnswer(method, path, 0))
                    _drop(client)
                    if self._gone_after_loss():
                        self.go_away()
                    return
                upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    upstream.putheader(name, value)
                upstream.endheaders(body)
                answer = upstream.getresponse()
                payload = answer.read()
                if self._take_loss(method, path):
                    self.lost.append(LostAnswer(method, path, answer.status))
                    _drop(client)
                    if self._gone_after_loss():
                        self.go_away()
                    return
                client.sendall(_response_bytes(answer, payload, method))
        except (OSError, http.client.HTTPException):
            return
        finally:
            upstream.close()
            with self._lock:
                self._clients.discard(client)
            _drop(client)

    def _take_loss(self, method: str, path: str) -> bool:
        with self._lock:
            if self._matcher is None or self._remaining <= 0 or not self._matcher(method, path):
                return False
            self._remaining -= 1
            return True

    def _reaches_server(self, method: str, path: str) -> bool:
        with self._lock:
            if self._reach_server:
                return True
        return not self._take_loss(method, path)

    def _gone_after_loss(self) -> bool:
        with self._lock:
            return self._then_gone and self._remaining == 0


def _drop(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _read_request(
    reader: object, client: socket.socket
) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    """One request from the client, or None when it closed the connection."""
    assert hasattr(reader, "readline") and hasattr(reader, "read")
    line = reader.readline()
    if not line:
        return None
    method, path, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    lowered = {name.lower(): value for name, value in headers}
    if lowered.get("expect", "").lower() == "100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        headers = [(n, v) for n, v in headers if n.lower() != "expect"]
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        raise NotImplementedError("chunked request bodies are not needed by these tests")
    body = reader.read(int(lowered.get("content-length", "0")))
    return method, path, headers, body


def _response_bytes(answer: http.client.HTTPResponse, payload: bytes, method: str) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    for name, value in answer.getheaders():
        if name.lower() in _HOP_BY_HOP:
            continue
        if name.lower() == "content-length" and method != "HEAD":
            continue
        lines.append(f"{name}: {value}")
    if method != "HEAD":
        lines.append(f"Content-Length: {len(payload)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (b"" if method == "HEAD" else payload)


def is_entry_put(method: str, path: str) -> bool:
    """The create-only PUT of a ledger entry (``chains/<use case>/<seq>.dsse.json``)."""
    return method == "PUT" and "/chains/" in path and path.split("?")[0].endswith(".dsse.json")
