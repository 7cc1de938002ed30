"""A long-running reader's bounded memo: results keyed by a digest of every input they
were computed from, so a hit is exactly what computing again would give.

The UI keeps one for its whole life (``Session.memo``): a page first reads and hashes
what the store holds now, then looks its result up here. Nothing is believed because
it was seen before; an input that changed by one byte is a different key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: Results kept; the oldest used is dropped first.
DEFAULT_LIMIT = 64


class Memo:
    """A thread-safe least-recently-used map from input digests to results."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._kept: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> object | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._kept.move_to_end(key)
            return found

    def put(self, key: str, value: object) -> None:
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)
