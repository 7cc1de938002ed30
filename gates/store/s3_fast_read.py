"""Bulk object reads for ``S3Store.get_many``: SigV4-signed GETs on keep-alive connections.

botocore spends about a millisecond of CPU on each GetObject (events, serialising,
parsing, retry bookkeeping), and under the GIL threads cannot overlap that, so reading
a ledger through botocore tops out at a few hundred objects a second. Here each GET is
a bare HTTP/1.1 request, SigV4-signed exactly as botocore would sign it; several requests
stay in flight on pooled keep-alive connections, and one selector loop in the caller's
thread collects the answers while the caller works on earlier ones. No threads, so
nothing competes with the caller for the GIL.

Where and how to send is learned from botocore itself, never rebuilt by hand: the client
prepares and signs one GetObject (endpoint, addressing style, signing region, headers)
and is stopped just before sending it. Later GETs repeat that request for other keys.
They are signed here (SigV4 for a bodiless GET is short, and botocore's signer costs
~50 µs a request, a third of this path), but only after our signature of the probe has
matched botocore's byte for byte; otherwise the store reads through botocore.

Only a plain 200 with a complete body is handled here; every other answer is handed
back as ``Declined`` so the caller can ask botocore, which keeps its error mapping,
redirects and retries.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import selectors
import socket
import ssl
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "BrokenRead",
    "Declined",
    "EndpointUnreachable",
    "FastReadError",
    "FastReader",
    "GetSigner",
    "ReadTarget",
    "Unsupported",
    "learn_target",
]

_PROBE_EVENT = "before-send.s3.GetObject"
_AUTH_PREFIX = "AWS4-HMAC-SHA256 Credential="
# Headers signed afresh for every request, or that describe one botocore attempt only.
# (X-Amz-Content-SHA256 stays: every bodiless GET has the same payload hash.)
_PER_REQUEST_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "host",
        "content-length",
        "expect",
    }
)
_RECV_SIZE = 256 * 1024
# A response head larger than this is not an S3 GetObject answer.
_MAX_HEAD = 64 * 1024
#: Frozen credentials are re-read this often, so refreshable ones (roles) stay valid.
CREDENTIALS_TTL = 60.0


@dataclass(frozen=True)
class Unsupported:
    """Why bulk reads of a store go through botocore instead of the fast path."""

    reason: str


@dataclass(frozen=True)
class Declined:
    """An answer other than a plain 200 OK; the caller asks botocore, which maps or retries it."""

    status: int
    reason: str


class FastReadError(Exception):
    """The fast path failed in a way that asking botocore again would not fix."""


class EndpointUnreachable(FastReadError):
    """No connection, or the server stopped answering within the read timeout."""


class BrokenRead(FastReadError):
    """An object arrived incomplete, garbled, or with a checksum that does not match."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key!r}: {detail}")
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class ReadTarget:
    """Where and how botocore would GET the objects of one bucket."""

    host: str
    port: int
    #: TLS context for https endpoints, None for plain http.
    tls: ssl.SSLContext | None
    #: The request-target of an object is this plus its percent-encoded key.
    base_path: str
    #: Headers sent with every GET as botocore sent them (Host first); the date, the
    #: session token and the signature are added per request.
    headers: tuple[tuple[str, str], ...]
    region: str
    signing_name: str
    #: botocore credentials (possibly refreshable); frozen again every CREDENTIALS_TTL.
    credentials: Any


class _Probed(Exception):
    """Raised from the probe's before-send hook to stop botocore before it sends."""


def learn_target(client: Any, bucket: str) -> ReadTarget | Unsupported:
    """Ask ``client`` how it would GET from ``bucket``; Unsupported if we cannot do the same."""
    from botocore.exceptions import BotoCoreError, ClientError

    token = f"stagegate-read-probe-{uuid.uuid4().hex}"
    captured: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        if str(request.url).endswith(token):  # only our probe, never a concurrent real call
            captured["url"] = str(request.url)
            captured["headers"] = [(str(k), _text(v)) for k, v in request.headers.items()]
            raise _Probed

    client.meta.events.register(_PROBE_EVENT, capture, unique_id=token)
    try:
        client.get_object(Bucket=bucket, Key=token)
    except _Probed:
        pass
    except (BotoCoreError, ClientError) as e:  # no credentials, bad parameters, ...
        return Unsupported(f"botocore could not prepare a GetObject ({e})")
    finally:
        client.meta.events.unregister(_PROBE_EVENT, unique_id=token)
    if "url" not in captured:
        return Unsupported("botocore answered the probe without sending a request")
    return _target_from(client, captured["url"], captured["headers"], token)


def _target_from(
    client: Any, url: str, headers: list[tuple[str, str]], token: str
) -> ReadTarget | Unsupported:
    from botocore.utils import get_environ_proxies

    by_name = {name.lower(): value for name, value in headers}
    if len(by_name) != len(headers):
        return Unsupported("botocore sent a header twice")
    authorization = by_name.get("authorization", "")
    if not authorization.startswith(_AUTH_PREFIX) or "x-amz-date" not in by_name:
        return Unsupported(
            "requests are not signed with SigV4 (anonymous access or another scheme)"
        )
    if "x-amz-s3session-token" in by_name:
        return Unsupported("S3 Express session authentication")
    if "x-amz-content-sha256" not in by_name:
        return Unsupported("botocore sent no payload hash")
    # Credential=<access key>/<date>/<region>/<service>/aws4_request
    scope = authorization[len(_AUTH_PREFIX) :].split(",", 1)[0].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        return Unsupported(f"unexpected SigV4 credential scope {'/'.join(scope[1:])!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.query or not parts.hostname:
        return Unsupported(f"unexpected object URL {url}")
    if not parts.path.endswith("/" + token):
        return Unsupported(f"unexpected object URL {url}")
    if client.meta.config.proxies or get_environ_proxies(url):
        return Unsupported("a proxy is configured")
    tls: ssl.SSLContext | None = None
    if parts.scheme == "https":
        made = _tls_context(client)
        if isinstance(made, Unsupported):
            return made
        tls = made
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    if credentials is None:
        return Unsupported("the client has no credentials")
    host = parts.hostname
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    # The Host header as botocore signs it: brackets for IPv6, the port unless default.
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header = f"{host_header}:{port}"
    kept = tuple((n, v) for n, v in headers if n.lower() not in _PER_REQUEST_HEADERS)
    target = ReadTarget(
        host=host,
        port=port,
        tls=tls,
        base_path=parts.path[: -len(token)],
        headers=(("Host", host_header), *kept),
        region=scope[2],
        signing_name=scope[3],
        credentials=credentials,
    )
    # Sign the probe ourselves with botocore's timestamp: it must come out identical.
    ours = dict(GetSigner(target).headers(token, by_name["x-amz-date"]))
    if ours.get("Authorization") != authorization:
        return Unsupported("our SigV4 signature of the probe differs from botocore's")
    return target


def _tls_context(client: Any) -> ssl.SSLContext | Unsupported:
    """A context that verifies like the client's HTTP session does (same CA bundle)."""
    from botocore.httpsession import create_urllib3_context, get_cert_path

    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    verify = getattr(session, "_verify", None)
    if verify is None or verify is False:
        return Unsupported("TLS certificate verification is off or unknown")
    if getattr(session, "_cert_file", None):
        return Unsupported("a TLS client certificate is configured")
    try:
        context: ssl.SSLContext = create_urllib3_context()
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
        bundle = get_cert_path(verify)
        if not bundle:
            return Unsupported("no CA bundle to verify TLS with")
        if os.path.isdir(bundle):
            context.load_verify_locations(capath=bundle)
        else:
            context.load_verify_locations(cafile=bundle)
    except (OSError, ValueError) as e:
        return Unsupported(f"cannot load the CA bundle ({e})")
    return context


def _text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


# -- reading ----------------------------------------------------------------------------


class _Slot:
    """One requested key: its place in the input order and, once known, its outcome."""

    __slots__ = ("key", "outcome", "path", "retried")

    def __init__(self, key: str, path: str | Exception) -> None:
        self.key = key
        self.path = path
        self.outcome: bytes | Declined | Exception | None = (
            path if isinstance(path, Exception) else None
        )
        self.retried = False


class _Connection:
    __slots__ = ("buffer", "headers", "length", "received", "served", "slot", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.served = 0
        self.slot: _Slot | None = None
        # Per response: bytes received so far, parsed headers and body length.
        self.received = 0
        self.headers: dict[str, str] | None = None
        self.length = 0

    def start(self, slot: _Slot) -> None:
        self.slot = slot
        self.received = 0
        self.headers = None
        self.length = 0

    def close(self) -> None:
        self.slot = None
        with contextlib.suppress(OSError):
            self.sock.close()


class FastReader:
    """Reads objects of one bucket over up to ``connections`` keep-alive connections.

    Thread-safe: concurrent ``read`` calls each check connections out of a shared pool.
    """

    def __init__(
        self,
        target: ReadTarget,
        *,
        connections: int,
        read_ahead: int,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        if connections < 1 or read_ahead < connections:
            raise ValueError("need connections >= 1 and read_ahead >= connections")
        self.target = target
        self.connections = connections
        self.read_ahead = read_ahead
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._pool: list[_Connection] = []
        self._pool_lock = threading.Lock()
        self._pool_pid = os.getpid()
        self._closed = False

    def close(self) -> None:
        """Close the idle connections; reads in progress close theirs when they end."""
        with self._pool_lock:
            idle, self._pool, self._closed = self._pool, [], True
        for conn in idle:
            conn.close()

    def read(
        self, items: Iterable[tuple[str, str | Exception]]
    ) -> Generator[tuple[str, bytes | Declined], None, None]:
        """(key, bytes or Declined) for each (key, object path) in input order.

        A path may instead be an exception (an invalid key), raised when its turn comes.
        At most ``read_ahead`` items are taken from ``items`` beyond the one last yielded.
        """
        source = iter(items)
        window: deque[_Slot] = deque()  # taken from the input, not yet yielded
        unsent: deque[_Slot] = deque()
        idle = self._checkout()
        held = len(idle)  # connections this call owns, idle or busy
        selector = selectors.DefaultSelector()
        signer = GetSigner(self.target)
        exhausted = False

        def send(slot: _Slot) -> None:
            nonlocal held
            assert isinstance(slot.path, str)
            request = signer.request(slot.path)
            while True:
                # A retry goes on a new connection: the idle ones may be as stale as
                # the one that just failed.
                fresh = slot.retried or not idle
                if fresh and held >= self.connections and idle:
                    idle.pop().close()
                    held -= 1
                conn = self._connect() if fresh else idle.pop()
                if fresh:
                    held += 1
                try:
                    _send_all(conn.sock, request, self.read_timeout)
                except OSError as e:
                    conn.close()
                    held -= 1
                    if not fresh:
                        slot.retried = True  # the server dropped an idle keep-alive connection
                        continue
                    raise EndpointUnreachable(f"sending the request failed: {e}") from e
                conn.start(slot)
                selector.register(conn.sock, selectors.EVENT_READ, conn)
                return

        def retire(conn: _Connection, reusable: bool) -> None:
            nonlocal held
            selector.unregister(conn.sock)
            conn.slot = None
            if reusable:
                conn.served += 1
                idle.append(conn)
            else:
                conn.close()
                held -= 1

        def on_readable(conn: _Connection) -> None:
            slot = conn.slot
            assert slot is not None
            eof, error = _receive(conn)
            done = self._parse(conn, slot) if conn.buffer else None
            if done is not None:
                slot.outcome, reusable = done
                retire(conn, reusable and not eof)
                return
            if not eof:
                return
            retire(conn, reusable=False)
            if conn.received == 0 and not slot.retried:
                # Closed before answering: on a reused connection the server timed it
                # out as idle just as we sent. Asking once more is safe for a GET.
                slot.retried = True
                unsent.appendleft(slot)
                return
            why = f" ({error})" if error else ""
            if conn.received == 0:
                raise EndpointUnreachable(
                    f"the server closed the connection without answering{why}"
                )
            raise BrokenRead(
                slot.key, f"the connection closed mid-answer after {conn.received} bytes{why}"
            )

        try:
            last_progress = time.monotonic()
            while True:
                while not exhausted and len(window) < self.read_ahead:
                    try:
                        key, path = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    slot = _Slot(key, path)
                    window.append(slot)
                    if slot.outcome is None:
                        unsent.append(slot)
                while unsent and (idle or held < self.connections):
                    send(unsent.popleft())
                if not window:
                    return
                head = window[0]
                # While the head is ready, only pick up what has arrived; else wait for it.
                timeout = 0.0 if head.outcome is not None else self.read_timeout
                events = selector.select(timeout)
                if events:
                    last_progress = time.monotonic()
                for selected, _ in events:
                    on_readable(selected.data)
                if head.outcome is None:
                    if not events and time.monotonic() - last_progress >= self.read_timeout:
                        raise EndpointUnreachable(f"no answer within {self.read_timeout:g} s")
                    continue
                window.popleft()
                outcome = head.outcome
                if isinstance(outcome, Exception):
                    raise outcome
                yield head.key, outcome
        finally:
            # Connections with a request in flight would deliver its answer to the next
            # user; only idle ones go back to the pool.
            for selected in list(selector.get_map().values()):
                conn = selected.data
                conn.close()
            selector.close()
            self._checkin(idle)

    # -- plumbing -------------------------------------------------------------------

    def _checkout(self) -> list[_Connection]:
        with self._pool_lock:
            if self._pool_pid != os.getpid():  # a forked child must not share sockets
                self._pool, self._pool_pid = [], os.getpid()
            taken, self._pool = self._pool[: self.connections], self._pool[self.connections :]
        alive = []
        for conn in taken:
            if _still_open(conn):
                alive.append(conn)
            else:
                conn.close()
        return alive

    def _checkin(self, conns: list[_Connection]) -> None:
        with self._pool_lock:
            room = max(0, self.connections - len(self._pool))
            keep, extra = conns[:room], conns[room:]
            if self._pool_pid == os.getpid() and not self._closed:
                self._pool.extend(keep)
            else:
                extra = conns
        for conn in extra:
            conn.close()

    def _connect(self) -> _Connection:
        target = self.target
        try:
            sock = socket.create_connection(
                (target.host, target.port), timeout=self.connect_timeout
            )
        except OSError as e:
            raise EndpointUnreachable(f"cannot connect to {target.host}:{target.port}: {e}") from e
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.tls is not None:
                sock = target.tls.wrap_socket(sock, server_hostname=target.host)
            sock.setblocking(False)
        except OSError as e:  # ssl.SSLError included
            sock.close()
            raise EndpointUnreachable(f"TLS with {target.host}:{target.port} failed: {e}") from e
        return _Connection(sock)

    def _parse(self, conn: _Connection, slot: _Slot) -> tuple[bytes | Declined, bool] | None:
        """(outcome, connection reusable) once the answer is complete; None for more bytes."""
        buffer = conn.buffer
        if conn.headers is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    raise BrokenRead(slot.key, "the answer's header block never ended")
                return None
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            del buffer[: end + 4]
            version, _, rest = lines[0].partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not (code.isascii() and code.isdigit()):
                raise BrokenRead(slot.key, f"not an HTTP/1.x answer: {lines[0][:80]!r}")
            status = int(code)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if status != 200:
                # Whatever it is, botocore knows what it means; this connection is done.
                return Declined(status, rest[4:] or rest), False
            length = headers.get("content-length", "")
            if "transfer-encoding" in headers or not (length.isascii() and length.isdigit()):
                return Declined(status, "answer without a Content-Length"), False
            conn.headers = headers
            conn.length = int(length)
        if len(buffer) < conn.length:
            return None
        body = bytes(buffer[: conn.length])
        reusable = len(buffer) == conn.length  # anything more means we lost the framing
        buffer.clear()
        _check_checksums(slot.key, body, conn.headers)
        keep_alive = conn.headers.get("connection", "").lower() != "close"
        return body, reusable and keep_alive


class GetSigner:
    """SigV4 (``AWS4-HMAC-SHA256``) for bodiless GETs of a target, as botocore's S3 signer.

    Checked against botocore on every target (see ``_target_from``) and in the tests.
    """

    def __init__(self, target: ReadTarget) -> None:
        from botocore.auth import SIGNED_HEADERS_BLACKLIST

        self._target = target
        self._unsigned = frozenset(SIGNED_HEADERS_BLACKLIST)
        self._payload_hash = {n.lower(): v for n, v in target.headers}["x-amz-content-sha256"]
        self._frozen: Any = None
        self._frozen_at = 0.0
        self._key_for: tuple[str, str] = ("", "")
        self._key = b""

    def request(self, path: str, amz_date: str | None = None) -> bytes:
        """The bytes of a signed ``GET`` of object ``path`` (at ``amz_date``, else now)."""
        encoded = _percent_encode(path)
        amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        lines = [f"GET {self._target.base_path}{encoded} HTTP/1.1"]
        lines.extend(f"{name}: {value}" for name, value in self.headers(encoded, amz_date))
        # Unsigned, as http.client adds it under botocore: the stored bytes, never a
        # compressed rendering of them.
        lines.append("Accept-Encoding: identity")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")

    def headers(self, encoded_path: str, amz_date: str) -> list[tuple[str, str]]:
        """Every header of a GET of ``encoded_path`` at ``amz_date``, Authorization last."""
        target = self._target
        credentials = self._credentials()
        headers = [*target.headers, ("X-Amz-Date", amz_date)]
        if credentials.token:
            headers.append(("X-Amz-Security-Token", credentials.token))
        signed = sorted(
            (name.lower(), " ".join(value.split()))
            for name, value in headers
            if name.lower() not in self._unsigned
        )
        signed_names = ";".join(name for name, _ in signed)
        canonical = "\n".join(
            [
                "GET",
                target.base_path + encoded_path,
                "",  # no query string
                *(f"{name}:{value}" for name, value in signed),
                "",
                signed_names,
                self._payload_hash,
            ]
        )
        day = amz_date[:8]
        scope = f"{day}/{target.region}/{target.signing_name}/aws4_request"
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(
            self._signing_key(credentials.secret_key, day), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers.append(
            (
                "Authorization",
                f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                f"SignedHeaders={signed_names}, Signature={signature}",
            )
        )
        return headers

    def _credentials(self) -> Any:
        now = time.monotonic()
        if self._frozen is None or now - self._frozen_at > CREDENTIALS_TTL:
            self._frozen = self._target.credentials.get_frozen_credentials()
            self._frozen_at = now
        return self._frozen

    def _signing_key(self, secret: str, day: str) -> bytes:
        if self._key_for != (secret, day):
            key = ("AWS4" + secret).encode()
            for part in (day, self._target.region, self._target.signing_name, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key, self._key_for = key, (secret, day)
        return self._key


def _percent_encode(path: str) -> str:
    # As botocore encodes S3's greedy {Key+} label: UTF-8, everything but /~ and
    # unreserved characters escaped.
    return quote(path, safe="/~")


def _send_all(sock: socket.socket, data: bytes, timeout: float) -> None:
    try:
        sent = sock.send(data)  # a GET fits an idle connection's send buffer: one call
    except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
        sent = 0
    if sent < len(data):
        sock.settimeout(timeout)
        try:
            sock.sendall(data[sent:])
        finally:
            sock.setblocking(False)


def _receive(conn: _Connection) -> tuple[bool, str]:
    """Read what has arrived into the buffer; (end of stream, error text)."""
    try:
        while True:
            chunk = conn.sock.recv(_RECV_SIZE)
            if not chunk:
                return True, ""
            conn.buffer += chunk
            conn.received += len(chunk)
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False, ""
    except OSError as e:  # reset, TLS alert, ...
        return True, str(e) or type(e).__name__


def _still_open(conn: _Connection) -> bool:
    """Whether an idle connection looks usable: an idle socket has nothing to read
    unless the server closed it (or sent a TLS housekeeping record)."""
    try:
        conn.sock.recv(1)
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return True
    except OSError:
        return False
    return False  # end of stream, or bytes nobody asked for: either way unusable


def _crc32(body: bytes) -> bytes:
    return zlib.crc32(body).to_bytes(4, "big")


# The algorithms botocore validates without the optional awscrt package.
_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": _crc32,
    "sha1": lambda body: hashlib.sha1(body).digest(),
    "sha256": lambda body: hashlib.sha256(body).digest(),
    "sha512": lambda body: hashlib.sha512(body).digest(),
}


def _check_checksums(key: str, body: bytes, headers: dict[str, str]) -> None:
    """Verify every full-object checksum the server sent that we can compute."""
    for algorithm, digest in _CHECKSUMS.items():
        expected = headers.get(f"x-amz-checksum-{algorithm}")
        if expected is None or "-" in expected:  # "-<n>": a composite multipart checksum
            continue
        found = base64.b64encode(digest(body)).decode("ascii")
        if found != expected:
            raise BrokenRead(
                key, f"{algorithm} checksum mismatch: S3 sent {expected}, the body has {found}"
            )
