"""A real folder store that remembers every object it handed out, however it was asked.

``get_many`` reads ahead through open files of its own (``LocalStore.get_many``) and
calls ``get`` only for a key it could not open early, so counting ``get`` alone would
miss most reads, and counting both would count such a key twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from gates.store.local import LocalStore


class CountingStore(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        #: Every key handed out, in the order it was.
        self.reads: list[str] = []
        self._inside_many = 0

    def get(self, key: str) -> bytes:
        data = super().get(key)
        if not self._inside_many:
            self.reads.append(key)
        return data

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        reading = super().get_many(keys)
        while True:
            self._inside_many += 1
            try:
                key, data = next(reading)
            except StopIteration:
                return
            finally:
                self._inside_many -= 1
            self.reads.append(key)
            yield key, data
