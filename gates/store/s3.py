"""An S3 artifact store: create-only writes with ``If-None-Match: *`` and Object Lock.

Works with AWS S3 and S3-compatible servers (SeaweedFS in tests). The endpoint and the
credentials come from the usual AWS chain (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
profiles, instance roles). Every botocore error is turned into a ``StoreError`` that
names the store, so callers never need to know botocore. botocore is imported only when
a store first talks to S3, keeping ``import gates.store.s3`` cheap.

Bulk reads (``get_many``, what ``audit verify`` streams a ledger through) skip botocore's
per-call machinery: obstore sends the GETs, many in flight at once, to where botocore
would send them and with the same session's credentials (``s3_bulk_read``). A read
obstore cannot complete is asked again through botocore, so errors read the same on
both paths.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar, cast

from gates.errors import (
    EntryExistsError,
    ListingBrokeOff,
    ObjectMissingError,
    StoreError,
    WriteOutcomeUnknown,
)
from gates.store.interface import ObjectInfo
from gates.store.local import validate_key

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

    from gates.store.s3_bulk_read import BulkReader, Failed, ReadTarget, Unsupported

__all__ = ["S3Store"]

#: Says why bulk reads leave obstore, so that a slower ``audit verify`` is explained.
log = logging.getLogger("gates.store")

RetentionMode = Literal["GOVERNANCE", "COMPLIANCE"]
_T = TypeVar("_T")

#: Threads ``get_many`` reads through obstore with, each waiting on one GET with the GIL
#: released: the requests in flight at once.
READ_WORKERS = 32
#: How many keys ``get_many`` takes ahead of the consumer; bounds memory.
READ_AHEAD = 64
#: Threads fetching objects concurrently when ``get_many`` has to go through botocore.
FETCH_WORKERS = 16

# Codes S3 servers answer for "this bucket has no Object Lock configuration"; servers
# without the feature at all answer NotImplemented, which means the same to us.
_NO_LOCK_CODES = frozenset(
    {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound", "NotImplemented"}
)
# 412: the key exists, the If-None-Match write lost.
_EXISTS_CODES = frozenset({"PreconditionFailed", "412"})
# 409: AWS saw a concurrent operation on the key (another conditional write or a delete)
# and asks for the write to be retried; the retry then wins or gets the definitive 412.
_CONFLICT_CODES = frozenset({"ConditionalRequestConflict", "409"})
#: Tries of a create-only write that keeps meeting 409 conflicts.
CONFLICT_TRIES = 4


@dataclass(frozen=True)
class _Retention:
    mode: RetentionMode
    days: int


#: Reads of a key whose write went unanswered, to learn whether it landed, with pauses
#: of ``SETTLE_PAUSE_SECONDS`` doubling between them (0.5 + 1 + 2 s, plus the reads).
SETTLE_TRIES = 4
SETTLE_PAUSE_SECONDS = 0.5


class _AnswerLost(Exception):
    """A PUT may have reached S3, but no answer says whether it landed."""

    def __init__(self, detail: str, cause: Exception) -> None:
        super().__init__(detail)
        self.detail = detail
        self.cause = cause


@dataclass
class _PutAttempts:
    """What botocore's attempts inside one ``put_object`` call showed."""

    #: Some attempt may have delivered the request: its connection broke after sending,
    #: it timed out waiting for the answer, or S3 answered with a server error.
    maybe_delivered: bool = False


def _may_have_been_delivered(error: BaseException) -> bool:
    """Whether a failed attempt may have sent the request: anything but failing to connect."""
    from botocore import exceptions as bx

    if isinstance(error, bx.ConnectionError):  # refused, connect timeout, TLS handshake, proxy
        return False
    return isinstance(error, bx.HTTPClientError)  # closed mid-request, read timeout


_loader_lock = threading.Lock()
_shared_loader: Any = None


def default_session() -> Any:
    """A fresh botocore session (so it sees the current environment and credentials).

    All sessions share one loader of botocore's service models, which makes a client
    ~6x cheaper. Timestamps (e.g. each listed key's LastModified) are parsed with
    ``datetime.fromisoformat`` first, which halves the cost of listing a ledger.
    """
    global _shared_loader
    import botocore.session

    session = botocore.session.get_session()
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=_parse_timestamp
    )
    with _loader_lock:
        if _shared_loader is None:
            _shared_loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _shared_loader)
    return session


def default_client(session: Any = None) -> S3Client:
    """An S3 client from the usual AWS configuration, with short timeouts and a big pool.

    Timeouts are a few seconds so an unreachable store fails fast instead of hanging a
    gate; the pool is large enough for ``get_many``'s concurrent fetches. ``session``
    defaults to a fresh ``default_session()``.
    """
    from botocore.config import Config

    config = Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max(32, FETCH_WORKERS * 2),
    )
    if session is None:
        session = default_session()
    with _loader_lock:  # the shared loader is not documented as thread-safe
        client = session.create_client("s3", config=config)
    return cast("S3Client", client)


def _parse_timestamp(value: Any) -> datetime:
    """ISO 8601 (what S3 XML bodies carry) fast; anything else botocore's way."""
    from botocore.utils import parse_timestamp

    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    return parse_timestamp(value)


class S3Store:
    """An ``ObjectStore`` on ``s3://bucket/prefix``.

    ``retention_days``: ``None`` writes entries with the bucket's default Object Lock
    retention (if it has one); ``0`` asks for no retention of our own (a bucket default
    rule still applies server-side); ``N`` retains each entry for N days, in the bucket
    default's mode or GOVERNANCE if the bucket has no default. Buckets without Object
    Lock are written without retention whatever this says.

    ``fast_read=False`` makes ``get_many`` go through botocore like every other call
    instead of obstore.
    """

    modified_by = "the S3 server's LastModified"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: S3Client | None = None,
        *,
        retention_days: int | None = None,
        fast_read: bool = True,
    ) -> None:
        if not bucket or "/" in bucket:
            raise StoreError(f"invalid S3 bucket name {bucket!r}")
        if retention_days is not None and retention_days < 0:
            raise StoreError(f"retention_days must be >= 0, got {retention_days}")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.uri = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.retention_days = retention_days
        self._client = client
        # The session the client was made from; bulk reads take its credentials.
        self._session: Any = None
        self._lock = threading.Lock()
        # Object Lock settings and bucket existence are looked up once, when first needed.
        self._retention_known = False
        self._retention: _Retention | None = None
        self._bucket_checked = False
        # The bulk read path, or why there is none; learned on the first get_many.
        self._reader: BulkReader | Unsupported | None = None
        # Where bulk reads go, when learned before the reader was made (warm_for_fork).
        self._learned: ReadTarget | Unsupported | None = None
        self._fast_read = fast_read
        # Per thread: what the attempts of the PUT in progress showed (see _create).
        self._put_attempts = threading.local()
        self._put_hook_registered = False

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r})"

    # -- plumbing -----------------------------------------------------------------

    @property
    def client(self) -> S3Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._session = default_session()
                        self._client = default_client(self._session)
                    except Exception as e:  # botocore config errors, bad env values
                        raise StoreError(f"{self.uri}: cannot create an S3 client: {e}") from e
        return self._client

    def warm_for_fork(self) -> None:
        """Load what reading needs (botocore's client and service model, obstore's
        modules) and learn where bulk reads go, without starting a thread or sending a
        request, so that processes forked afterwards open this store in a few
        milliseconds instead of a few hundred.

        A forked child (a verification worker) then bulk-reads the bucket without making
        a botocore client of its own (``_for_forked_children``): most of a worker's start.
        """
        client = self.client
        import obstore.exceptions
        import obstore.store  # noqa: F401

        if self._fast_read and self._learned is None:
            self._learned = self._learn_target(client)
        _for_forked_children(self.bucket, self._learned, client)

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, error: Exception, action: str, key: str | None = None) -> NoReturn:
        """Re-raise a boto3/botocore error as a StoreError that says what to do."""
        from botocore import exceptions as bx

        what = f"{action} {key!r}" if key is not None else action
        if isinstance(error, bx.ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code == "NoSuchBucket":
                raise StoreError(
                    f"{self.uri}: bucket {self.bucket!r} does not exist at {self.endpoint}",
                    hint="create the bucket or fix the store URI",
                ) from error
            if code in ("NoSuchKey", "404", "NotFound") and key is not None:
                raise ObjectMissingError(f"{self.uri}: no object at key {key!r}") from error
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StoreError(
                    f"{self.uri}: S3 refused to {what}: {code} {message}".rstrip(),
                    hint="check the AWS credentials and the bucket policy for this role",
                ) from error
            raise StoreError(
                f"{self.uri}: S3 failed to {what}: {code} {message}".rstrip()
            ) from error
        if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
            raise StoreError(
                f"{self.uri}: no usable AWS credentials to {what}",
                hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS profile",
            ) from error
        if isinstance(error, bx.ConnectionError | bx.HTTPClientError):
            raise StoreError(
                f"{self.uri}: S3 unreachable at {self.endpoint} ({error})",
                hint="check AWS_ENDPOINT_URL and that the S3 server is running",
            ) from error
        if isinstance(error, bx.BotoCoreError):
            raise StoreError(f"{self.uri}: S3 failed to {what}: {error}") from error
        raise error

    def _ensure_bucket(self) -> None:
        """Raise StoreError if the bucket is missing; a 404 from HEAD cannot tell us."""
        if self._bucket_checked:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            if str(e.response.get("Error", {}).get("Code")) in ("404", "NoSuchBucket", "NotFound"):
                raise StoreError(
                    f"{self.uri}: bucket {self.bucket!r} does not exist at {self.endpoint}",
                    hint="create the bucket or fix the store URI",
                ) from e
            self._fail(e, "check bucket")
        except BotoCoreError as e:
            self._fail(e, "check bucket")
        self._bucket_checked = True

    def _bucket_retention(self) -> _Retention | None:
        """The retention to write entries with, from the bucket's Object Lock settings."""
        if self._retention_known:
            return self._retention
        from botocore.exceptions import BotoCoreError, ClientError

        retention: _Retention | None = None
        if self.retention_days != 0:
            try:
                answer = self.client.get_object_lock_configuration(Bucket=self.bucket)
                config = answer.get("ObjectLockConfiguration", {})
            except ClientError as e:
                if str(e.response.get("Error", {}).get("Code")) not in _NO_LOCK_CODES:
                    self._fail(e, "read the Object Lock configuration")
                config = {}
            except BotoCoreError as e:
                self._fail(e, "read the Object Lock configuration")
            if config.get("ObjectLockEnabled") == "Enabled":
                default = config.get("Rule", {}).get("DefaultRetention", {})
                mode: RetentionMode = default.get("Mode", "GOVERNANCE")
                days = default.get("Days") or 365 * default.get("Years", 0)
                if self.retention_days is not None:
                    days = self.retention_days
                if days > 0:
                    retention = _Retention(mode=mode, days=days)
        self._retention = retention
        self._retention_known = True
        return retention

    # -- ObjectStore --------------------------------------------------------------

    def put_new(self, key: str, data: bytes) -> None:
        extra = self._retention_args()
        try:
            self._create(key, data, extra)
        except _AnswerLost as lost:
            self._settle(key, data, extra, lost)

    def _retention_args(self) -> dict[str, Any]:
        retention = self._bucket_retention()
        if retention is None:
            return {}
        return {
            "ObjectLockMode": retention.mode,
            "ObjectLockRetainUntilDate": datetime.now(UTC) + timedelta(days=retention.days),
        }

    def _create(self, key: str, data: bytes, extra: dict[str, Any]) -> None:
        """One create-only PUT (botocore's retries included).

        Raises EntryExistsError when the key was taken before us, ``_AnswerLost`` when the
        request may have reached S3 but no answer says whether it landed, StoreError for
        everything that certainly wrote nothing.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._full(key)
        for attempt in range(CONFLICT_TRIES):
            sent = self._watch_put_attempts()
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=full,
                    Body=data,
                    IfNoneMatch="*",
                    # AWS refuses Object Lock puts without an integrity checksum; sending
                    # one always also protects every entry end to end.
                    ChecksumAlgorithm="SHA256",
                    **extra,
                )
                return
            except ClientError as e:
                code = str(e.response.get("Error", {}).get("Code"))
                meta = e.response.get("ResponseMetadata", {})
                if code in _EXISTS_CODES:
                    # If botocore retried (say after a read timeout), the first attempt
                    # may have created the object and the retry then lost to it.
                    if meta.get("RetryAttempts", 0):
                        raise _AnswerLost(f"S3 answered {code} to a retried write", e) from e
                    raise EntryExistsError(f"{self.uri}: {key!r} already exists") from e
                status = int(meta.get("HTTPStatusCode") or 0)
                if status >= 500:
                    # A server error after the request arrived: it may have been applied.
                    raise _AnswerLost(f"S3 answered {status} {code}", e) from e
                if code not in _CONFLICT_CODES:
                    self._fail(e, "write", key)
                if attempt == CONFLICT_TRIES - 1:
                    raise StoreError(
                        f"{self.uri}: writing {key!r} kept conflicting with concurrent "
                        f"operations on it ({CONFLICT_TRIES} tries)",
                        hint="another writer or a delete is racing on this key; retry later",
                    ) from e
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
            except BotoCoreError as e:
                if sent.maybe_delivered or _may_have_been_delivered(e):
                    raise _AnswerLost(str(e), e) from e
                self._fail(e, "write", key)
            finally:
                self._put_attempts.watch = None

    def _settle(self, key: str, data: bytes, extra: dict[str, Any], lost: _AnswerLost) -> None:
        """Learn whether an unanswered write landed, by reading the key again.

        Our exact bytes: it did. Other bytes: another writer won (EntryExistsError).
        No object: it did not (yet), and writing again is safe, since the write is
        create-only and carries the same bytes. Still unknown after ``SETTLE_TRIES``
        reads: WriteOutcomeUnknown, which says the object may exist.
        """
        last = lost.detail
        for attempt in range(SETTLE_TRIES):
            if attempt:
                time.sleep(SETTLE_PAUSE_SECONDS * 2 ** (attempt - 1))
            try:
                stored = self.get(key)
            except ObjectMissingError:
                try:
                    self._create(key, data, extra)
                    return
                except EntryExistsError:
                    continue  # it landed meanwhile, or someone else's did: read it
                except _AnswerLost as again:
                    last = again.detail
                    continue
                except StoreError as e:
                    last = e.message
                    continue
            except StoreError as e:
                last = e.message
                continue
            if stored == data:
                return
            raise EntryExistsError(f"{self.uri}: {key!r} already exists") from lost.cause
        raise WriteOutcomeUnknown(
            f"{self.uri}: the answer to writing {key!r} was lost, and {SETTLE_TRIES} reads "
            f"of the key did not tell whether it landed, so it may have been written "
            f"(last: {last})",
            key=key,
            hint="read the key once S3 answers again: if it holds the bytes written, "
            "the write landed",
        ) from lost.cause

    def _watch_put_attempts(self) -> _PutAttempts:
        """Start recording this thread's next PUT attempts (botocore retries inside a call)."""
        if not self._put_hook_registered:
            self.client.meta.events.register(
                "needs-retry.s3.PutObject",
                self._note_put_attempt,
                unique_id=f"stagegate-put-attempts-{id(self)}",
            )
            self._put_hook_registered = True
        watch = _PutAttempts()
        self._put_attempts.watch = watch
        return watch

    def _note_put_attempt(
        self,
        response: Any = None,
        caught_exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        # botocore asks "retry?" after every attempt, the last one included.
        watch: _PutAttempts | None = getattr(self._put_attempts, "watch", None)
        if watch is None:
            return
        if caught_exception is not None and _may_have_been_delivered(caught_exception):
            watch.maybe_delivered = True
        elif response is not None:
            status = int(getattr(response[0], "status_code", 0) or 0)
            if status >= 500:
                watch.maybe_delivered = True

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._full(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=full)
            return answer["Body"].read()
        except ClientError as e:
            self._fail(e, "read", key)
        except BotoCoreError as e:
            self._fail(e, "read", key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._full(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except ClientError as e:
            if str(e.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                self._ensure_bucket()
                return False
            self._fail(e, "check", key)
        except BotoCoreError as e:
            self._fail(e, "check", key)
        return True

    def list_keys(self, prefix: str) -> list[str]:
        return [listed.key for listed in self.list_objects(prefix)]

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        try:
            listed = [info for page in self.list_pages(prefix) for info in page]
        except ListingBrokeOff:
            base = f"{self.prefix}/" if self.prefix else ""
            listed = [info for page in self._pages_with_botocore(base, prefix) for info in page]
        return sorted(listed)

    def list_pages(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        """``list_objects`` a page at a time, each as the server sends it, in its order
        (S3's is by key, SeaweedFS's folder by folder): a caller can start on the first
        objects while the rest are listed. ListingBrokeOff when obstore fails after some
        pages were handed on: a listing cannot be resumed where a server's order is not
        the key order."""
        if prefix:
            validate_key(prefix.rstrip("/"))
        base = f"{self.prefix}/" if self.prefix else ""
        full = base + prefix
        reader = self._bulk_reader() if not full or full.endswith("/") else None
        if reader is not None:
            from gates.store.s3_bulk_read import Failed

            handed_on = 0
            for page in reader.list_pages(full):
                if isinstance(page, Failed):
                    if page.answered:
                        self._stop_bulk_reads(
                            f"obstore was refused listing {prefix!r} ({page.reason})"
                        )
                    else:
                        log.warning(
                            "%s: obstore could not list %r, botocore will: %s",
                            self.uri,
                            prefix,
                            page.reason,
                        )
                    if handed_on:
                        raise ListingBrokeOff(
                            f"{self.uri}: the listing of {prefix!r} broke off after "
                            f"{handed_on} objects ({page.reason})"
                        )
                    break
                handed_on += len(page)
                yield [
                    ObjectInfo(key[len(base) :], modified.astimezone(UTC), etag, size)
                    for key, modified, etag, size in page
                ]
            else:
                return
        yield from self._pages_with_botocore(base, prefix)

    def _pages_with_botocore(self, base: str, prefix: str) -> Iterator[list[ObjectInfo]]:
        # LastModified, ETag and Size come with every ListObjectsV2 item: the store's clock
        # and checksums cost nothing.
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base + prefix
            )
            for page in pages:
                yield [
                    ObjectInfo(
                        item["Key"][len(base) :],
                        item["LastModified"].astimezone(UTC),
                        item.get("ETag"),
                        item.get("Size"),
                    )
                    for item in page.get("Contents", [])
                ]
        except ClientError as e:
            self._fail(e, f"list {prefix!r}")
        except BotoCoreError as e:
            self._fail(e, f"list {prefix!r}")

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        remaining = iter(keys)
        first = next(remaining, None)
        if first is None:
            return  # nothing to read: obstore is not even set up (see parallel_verify)
        keys = itertools.chain((first,), remaining)
        reader = self._bulk_reader()
        if reader is None:
            yield from _in_order(keys, self.get, FETCH_WORKERS)
            return

        def read(key: str) -> bytes | Failed:
            full = self._full(key)  # an invalid key fails at its turn in the output
            if self._reader is not reader:  # switched to botocore during this call
                return self.get(key)
            return reader.read(full)

        for key, answer in _in_order(keys, read, READ_WORKERS):
            if isinstance(answer, bytes):
                yield key, answer
                continue
            # botocore maps the error exactly as ``get`` does (missing key, refused
            # credentials, no bucket, unreachable), or reads what was transient.
            data = self.get(key)
            if answer.answered:
                self._stop_bulk_reads(
                    f"obstore was refused {key!r} where botocore was not ({answer.reason})"
                )
            else:
                log.warning(
                    "%s: obstore could not read %r, botocore did: %s", self.uri, key, answer.reason
                )
            yield key, data

    def _bulk_reader(self) -> BulkReader | None:
        """The obstore read path for this store, or None where only botocore can read it."""
        from gates.store.s3_bulk_read import BulkReader, Unsupported, usable_here

        if isinstance(self._reader, BulkReader) and self._reader.pid != os.getpid():
            # This store was carried into a forked child, where obstore would hang.
            refused = usable_here() or Unsupported("the store was carried into another process")
            self._stop_bulk_reads(refused.reason)
        if self._reader is None:
            inherited = _inherited_from_parent(self.bucket) if self._fast_read else None
            client = self.client if inherited is None else None
            with self._lock:
                if self._reader is None and not self._fast_read:
                    self._reader = Unsupported("switched off")
                elif self._reader is None:
                    self._reader = self._open_reader(client, inherited)
                    if isinstance(self._reader, Unsupported):
                        log.warning(
                            "%s: bulk reads go through botocore, which is slower: %s",
                            self.uri,
                            self._reader.reason,
                        )
        return self._reader if isinstance(self._reader, BulkReader) else None

    def _open_reader(
        self, client: S3Client | None, inherited: _Inherited | None = None
    ) -> BulkReader | Unsupported:
        """The obstore reader: where ``inherited`` says (a parent's target), else where
        ``client`` would send, as learned before (``warm_for_fork``) or now."""
        from gates.store.s3_bulk_read import BulkReader, Unsupported, usable_here

        refused = usable_here()
        if refused is not None:
            return refused
        try:
            if inherited is None:
                assert client is not None
                target = self._learned or self._learn_target(client)
                if isinstance(target, Unsupported):
                    return target
                inherited = _Inherited(target, *_timeouts(client))
            return BulkReader(
                inherited.target,
                self.bucket,
                connect_timeout=inherited.connect_timeout,
                read_timeout=inherited.read_timeout,
            )
        except Exception as e:  # a surprise in botocore's answer or obstore's set-up
            return Unsupported(f"setting up obstore failed: {e!r}")

    def _learn_target(self, client: S3Client) -> ReadTarget | Unsupported:
        from gates.store.s3_bulk_read import Unsupported, learn_target

        try:
            return learn_target(client, self._session, self.bucket)
        except Exception as e:  # a surprise in botocore's answer
            return Unsupported(f"setting up obstore failed: {e!r}")

    def _stop_bulk_reads(self, reason: str) -> None:
        from gates.store.s3_bulk_read import BulkReader, Unsupported

        with self._lock:
            reader, self._reader = self._reader, Unsupported(reason)
        if isinstance(reader, BulkReader):
            log.warning("%s: bulk reads switch to botocore, which is slower: %s", self.uri, reason)


def _timeouts(client: S3Client) -> tuple[float, float]:
    """The client's connect and read timeouts, for obstore to keep the same."""
    config = client.meta.config
    return (
        float(getattr(config, "connect_timeout", None) or 60),
        float(getattr(config, "read_timeout", None) or 60),
    )


@dataclass(frozen=True)
class _Inherited:
    """Where a parent process learned that bulk reads of a bucket go."""

    target: ReadTarget
    connect_timeout: float
    read_timeout: float
    #: The process that learned it: only its own forked children take it.
    learned_in: int = 0
    #: The settings in the environment when it was learned (``_reading_environment``).
    environment: tuple[tuple[str, str], ...] = ()


#: Targets ``warm_for_fork`` learned just before worker processes were forked, by bucket.
_learned_for_children: dict[str, _Inherited] = {}


def _for_forked_children(
    bucket: str, learned: ReadTarget | Unsupported | None, client: S3Client
) -> None:
    """Leave what was ``learned`` for the children this process forks next, when they
    can use it as it is: a target whose credentials are fixed keys. Anything else takes
    back what an earlier warm-up left: refreshable credentials (a child refreshing them
    would share the parent's connections to the credential service), and a store that
    has no target now (say, a proxy is set since); such a child asks botocore itself."""
    from botocore.credentials import RefreshableCredentials

    from gates.store.s3_bulk_read import ReadTarget

    if not isinstance(learned, ReadTarget) or isinstance(
        learned.credentials, RefreshableCredentials
    ):
        _learned_for_children.pop(bucket, None)
        return
    _learned_for_children[bucket] = _Inherited(
        learned, *_timeouts(client), os.getpid(), _reading_environment()
    )


def _inherited_from_parent(bucket: str) -> _Inherited | None:
    """The target the process that forked this one learned for ``bucket``, if any.

    Only a direct child of the learning process takes it (``os.getppid``), and only
    while the settings in its environment are those the target was learned with.
    """
    inherited = _learned_for_children.get(bucket)
    if inherited is None or inherited.learned_in != os.getppid():
        return None
    return inherited if inherited.environment == _reading_environment() else None


def _reading_environment() -> tuple[tuple[str, str], ...]:
    """The variables of the environment botocore's target depends on: ``AWS_*``
    (credentials, endpoint, region, CA bundle) and the proxies (``*_PROXY``)."""
    return tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith("AWS_") or k.upper().endswith("_PROXY")
        )
    )


def _in_order(
    keys: Iterable[str], fetch: Callable[[str], _T], workers: int
) -> Iterator[tuple[str, _T]]:
    """(key, fetch(key)) in input order, fetched by ``workers`` threads at once.

    At most ``READ_AHEAD`` keys are taken beyond the one last yielded, so memory stays
    bounded however many keys come. A fetch that raises does so at its turn.
    """
    pending: deque[tuple[str, Future[_T]]] = deque()
    remaining = iter(keys)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-get")
    try:
        for key in itertools.islice(remaining, READ_AHEAD):
            pending.append((key, pool.submit(fetch, key)))
        while pending:
            key, future = pending.popleft()
            result = future.result()
            for following in itertools.islice(remaining, 1):
                pending.append((following, pool.submit(fetch, following)))
            yield key, result
    finally:
        # A consumer that stops early (or an error) must not wait for the read-ahead.
        pool.shutdown(wait=True, cancel_futures=True)
