"""Bulk object reads for ``S3Store.get_many``, through obstore (Rust's ``object_store``).

botocore spends about a millisecond of CPU on each GetObject (events, serialising,
parsing, retry bookkeeping), and under the GIL threads cannot overlap that, so reading
a ledger through botocore tops out at a few hundred objects a second. obstore signs,
sends and receives in Rust with the GIL released; Python only starts each GET and
collects its bytes.

Where and how to send is learned from botocore, never rebuilt by hand: the client
prepares and signs one GetObject (endpoint, addressing style, signing region) and is
stopped just before sending it. obstore is then pointed at the same place, with the
credentials of the same botocore session, re-read as botocore refreshes them. Stores
that botocore reaches in ways obstore would not copy (anonymous access, proxies, client
certificates, S3 Express sessions, unusual URLs) stay on botocore, with the reason.

Every failed read is handed back as ``Failed``: the caller asks botocore again, which
keeps its error mapping and retries.

obstore's runtime (tokio) does not survive ``fork()``: in a child forked from a process
that has used it, every read would hang. ``usable_here`` says whether this process may
use obstore; where it may not, the caller reads through botocore.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from obstore.store import S3Credential

__all__ = ["BulkReader", "Failed", "ReadTarget", "Unsupported", "learn_target", "usable_here"]

_PROBE_EVENT = "before-send.s3.GetObject"
_AUTH_PREFIX = "AWS4-HMAC-SHA256 Credential="
#: How long obstore may keep a set of credentials before asking the session again.
#: botocore hands out frozen credentials with at least ten minutes left (it refreshes
#: them 15 minutes before expiry), and obstore asks again once fewer than five of these
#: remain, so the credentials it signs with are always valid.
CREDENTIALS_TTL = timedelta(minutes=10)
#: Tries of one GET inside obstore (after a dropped connection, a 5xx, a timeout).
READ_RETRIES = 2
#: Objects in one page of a listing (S3's own page size).
LIST_PAGE = 1000


#: Listed objects: (key from the bucket's root, last modified, ETag, size).
Listed = list[tuple[str, datetime, str | None, int]]


@dataclass(frozen=True)
class Unsupported:
    """Why bulk reads of a store go through botocore instead of obstore."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """A read obstore could not complete; the caller asks botocore, which maps or retries it."""

    #: The error's type and first line, to say why bulk reads left obstore.
    reason: str
    #: The server answered, refusing (403, 401) or not finding (404) the object: if
    #: botocore then reads it, obstore does not reach the store as botocore does.
    answered: bool


@dataclass(frozen=True)
class ReadTarget:
    """Where and how botocore would GET the objects of one bucket."""

    #: ``scheme://host[:port]`` botocore sends to; with virtual-hosted addressing the
    #: host begins with the bucket name.
    endpoint: str
    virtual_hosted: bool
    region: str
    #: botocore credentials (possibly refreshable), frozen again every CREDENTIALS_TTL.
    credentials: Credentials
    #: PEM trust roots to add for TLS (botocore's ``ca_bundle``), None for the defaults.
    ca_bundle: str | None = None


class _Probed(Exception):
    """Raised from the probe's before-send hook to stop botocore before it sends."""


def learn_target(client: Any, session: Any, bucket: str) -> ReadTarget | Unsupported:
    """Ask ``client`` (made by ``session``) how it would GET from ``bucket``.

    Unsupported when obstore would not reach the objects the way botocore does.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    if session is None:
        return Unsupported("the S3 client was given without its botocore session")
    token = f"stagegate-read-probe-{uuid.uuid4().hex}"
    captured: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        if str(request.url).endswith(token):  # only our probe, never a concurrent real call
            captured["url"] = str(request.url)
            captured["headers"] = {str(k).lower(): _text(v) for k, v in request.headers.items()}
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
    return _target_from(client, session, bucket, captured["url"], captured["headers"], token)


def _target_from(
    client: Any, session: Any, bucket: str, url: str, headers: dict[str, str], token: str
) -> ReadTarget | Unsupported:
    from botocore.utils import get_environ_proxies

    authorization = headers.get("authorization", "")
    if not authorization.startswith(_AUTH_PREFIX):
        return Unsupported(
            "requests are not signed with SigV4 (anonymous access or another scheme)"
        )
    if "x-amz-s3session-token" in headers:
        return Unsupported("S3 Express session authentication")
    # Credential=<access key>/<date>/<region>/<service>/aws4_request
    scope = authorization[len(_AUTH_PREFIX) :].split(",", 1)[0].split("/")
    if len(scope) != 5 or scope[3:] != ["s3", "aws4_request"]:
        return Unsupported(f"unexpected SigV4 credential scope {'/'.join(scope[1:])!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.query or not parts.hostname:
        return Unsupported(f"unexpected object URL {url}")
    if parts.path == f"/{bucket}/{token}":
        virtual_hosted = False
    elif parts.path == f"/{token}" and parts.hostname.startswith(f"{bucket}."):
        virtual_hosted = True
    else:
        return Unsupported(f"unexpected object URL {url}")
    if client.meta.config.proxies or get_environ_proxies(url):
        return Unsupported("a proxy is configured")
    if client.meta.config.client_cert:
        return Unsupported("a TLS client certificate is configured")
    credentials = session.get_credentials()
    if credentials is None:
        return Unsupported("the botocore session has no credentials")
    ca_bundle = session.get_config_variable("ca_bundle") if parts.scheme == "https" else None
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        return Unsupported(f"the CA bundle {ca_bundle} is not a file")
    return ReadTarget(
        endpoint=f"{parts.scheme}://{parts.netloc}",
        virtual_hosted=virtual_hosted,
        region=scope[2],
        credentials=credentials,
        ca_bundle=ca_bundle,
    )


def _text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


class _SessionCredentials:
    """obstore's credential provider: the botocore session's current credentials."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __call__(self) -> S3Credential:
        frozen = self._credentials.get_frozen_credentials()
        if frozen.access_key is None or frozen.secret_key is None:
            # obstore fails the read; botocore then says what is missing.
            raise ValueError("the botocore session's credentials have no key")
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": datetime.now(UTC) + CREDENTIALS_TTL,
        }


#: The process that started obstore's runtime; a forked child inherits this value.
_started_in: int | None = None


def usable_here() -> Unsupported | None:
    """None if this process may read through obstore, else why not."""
    if _started_in is None or _started_in == os.getpid():
        return None
    return Unsupported(
        "this process was forked from one that had used obstore, whose runtime does "
        "not survive fork (start worker processes with 'spawn' or 'forkserver')"
    )


class BulkReader:
    """Reads objects of one bucket through obstore. Thread-safe: ``read`` may run in many
    threads at once, sharing obstore's connection pool."""

    def __init__(
        self, target: ReadTarget, bucket: str, *, connect_timeout: float, read_timeout: float
    ) -> None:
        global _started_in
        from obstore.store import S3Store as ObstoreS3

        if _started_in is None:
            _started_in = os.getpid()
        #: The process this reader may be used in.
        self.pid = os.getpid()

        client_options: dict[str, Any] = {
            "allow_http": target.endpoint.startswith("http:"),
            "connect_timeout": timedelta(seconds=connect_timeout),
            "read_timeout": timedelta(seconds=read_timeout),
        }
        if target.ca_bundle is not None:
            client_options["root_certificate"] = Path(target.ca_bundle).read_bytes()
        self._store = ObstoreS3(
            bucket,
            endpoint=target.endpoint,
            region=target.region,
            virtual_hosted_style_request=target.virtual_hosted,
            # Settings obstore would otherwise take from AWS_* variables botocore ignores.
            skip_signature=False,
            unsigned_payload=False,
            request_payer=False,
            credential_provider=_SessionCredentials(target.credentials),
            client_options=client_options,  # type: ignore[arg-type]
            retry_config={
                "max_retries": READ_RETRIES,
                "retry_timeout": timedelta(seconds=connect_timeout + read_timeout),
            },
        )

    def read(self, path: str) -> bytes | Failed:
        """The bytes of the object at ``path`` (from the bucket's root), or why not."""
        import obstore
        from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

        try:
            return bytes(obstore.get(self._store, path).bytes())
        except (FileNotFoundError, PermissionDeniedError, UnauthenticatedError) as e:
            return Failed(_first_line(e), answered=True)
        except Exception as e:  # obstore's GenericError and kin: transport, 5xx, garbled
            return Failed(_first_line(e), answered=False)

    def list(self, prefix: str) -> Listed | Failed:
        """(key from the bucket's root, last modified, ETag, size) of every object under
        ``prefix``, which must end with "/" (obstore lists folders, not partial names),
        or why not. About a tenth of botocore's CPU: its XML parsing is in Python."""
        listed: Listed = []
        for page in self.list_pages(prefix):
            if isinstance(page, Failed):
                return page
            listed.extend(page)
        return listed

    def list_pages(self, prefix: str) -> Iterator[Listed | Failed]:
        """``list`` a page at a time, as the server answers, in the server's (key) order;
        a failure is the last thing yielded."""
        import obstore
        from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

        assert not prefix or prefix.endswith("/"), prefix
        try:
            for batch in obstore.list(self._store, prefix=prefix or None, chunk_size=LIST_PAGE):
                yield [
                    (meta["path"], meta["last_modified"], meta["e_tag"], meta["size"])
                    for meta in batch
                ]
        except (PermissionDeniedError, UnauthenticatedError) as e:
            yield Failed(_first_line(e), answered=True)
        except Exception as e:  # a key obstore cannot represent, transport, garbled
            yield Failed(_first_line(e), answered=False)


def _first_line(error: BaseException) -> str:
    # obstore's messages run on with the server's XML and a debug dump of the cause.
    line = str(error).split("\n", 1)[0]
    if len(line) > 300:
        line = line[:300] + "…"
    return f"{type(error).__name__}: {line}"
