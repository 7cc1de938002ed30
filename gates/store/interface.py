"""The artifact store interface: create-only writes, reads and listings of keys.

Two real implementations share these semantics: a local directory (``local.py``) and
S3 (``s3.py``). The ledger relies on ``put_new`` being atomic and create-only: of two
writers of the same key exactly one succeeds, and a reader never sees half an object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable


class ObjectInfo(NamedTuple):
    """A listed object: its key and when the store received it, by the store's own clock."""

    key: str
    #: S3: the server's ``LastModified``; a folder: the file's modification time; memory:
    #: the time of the put. Aware, in UTC.
    modified: datetime
    #: S3: the server's ``ETag`` and ``Size`` (a single-part upload's ETag is the MD5 of
    #: its bytes, which lets packs stand in for reads); None where the store has none.
    etag: str | None = None
    size: int | None = None


@runtime_checkable
class ObjectStore(Protocol):
    #: Where the store lives, for messages (``s3://bucket/prefix`` or a folder path).
    uri: str
    #: Whose clock ``list_objects`` reports, and how far it can be trusted, for auditors.
    modified_by: str

    def put_new(self, key: str, data: bytes) -> None:
        """Create ``key`` with ``data``; raise EntryExistsError if it already exists."""

    def get(self, key: str) -> bytes:
        """The bytes of ``key``; raise ObjectMissingError if absent, StoreError if unreachable."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""

    def list_keys(self, prefix: str) -> list[str]:
        """All keys under ``prefix``, sorted."""

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        """All objects under ``prefix`` with the time the store received each, sorted by key."""

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Fetch keys (concurrently where the backend benefits), yielded in input order."""
