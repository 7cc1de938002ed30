"""An in-memory artifact store with the same create-only semantics as the real ones.

It lets an export bundle be verified with no access to any store: the bundle's exact
envelope bytes are placed at their keys and the ordinary verifier reads them back. Keys
follow the same safety rules as the local and S3 stores, so nothing a bundle names could
be stored elsewhere either.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from gates.errors import EntryExistsError, ObjectMissingError
from gates.store.interface import ObjectInfo
from gates.store.local import validate_key

__all__ = ["MemoryStore"]


class MemoryStore:
    """An ``ObjectStore`` in a dict; safe for many threads of one process."""

    modified_by = "this process, at each write"

    def __init__(self, uri: str = "memory:") -> None:
        self.uri = uri
        self._objects: dict[str, bytes] = {}
        self._modified: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore({self.uri!r}, {len(self._objects)} objects)"

    def put_new(self, key: str, data: bytes) -> None:
        self.put_copy(key, data, datetime.now(UTC))

    def put_copy(self, key: str, data: bytes, modified: datetime) -> None:
        """Create ``key`` as a copy of another store's object, keeping when that store got it."""
        validate_key(key)
        with self._lock:
            if key in self._objects:
                raise EntryExistsError(f"{self.uri}: {key!r} already exists")
            self._objects[key] = bytes(data)
            self._modified[key] = modified

    def get(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            try:
                return self._objects[key]
            except KeyError:
                raise ObjectMissingError(f"{self.uri}: no object at key {key!r}") from None

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._objects

    def list_keys(self, prefix: str) -> list[str]:
        if prefix:
            validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
        with self._lock:
            return sorted(k for k in self._objects if k.startswith(prefix))

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        keys = self.list_keys(prefix)
        with self._lock:
            return [ObjectInfo(k, self._modified[k]) for k in keys if k in self._modified]

    def list_pages(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        """``list_objects`` as one page: it is at hand at once."""
        yield self.list_objects(prefix)

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for key in keys:
            yield key, self.get(key)
