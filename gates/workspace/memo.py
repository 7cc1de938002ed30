"""A long-running reader's bounded memo: results keyed by a digest of every input they
were computed from, so a hit is exactly what computing again would give.

The UI keeps one for its whole life (``Session.memo``): a page first reads and hashes
what the store holds now, then looks its result up here. Nothing is believed because
it was seen before; an input that changed by one byte is a different key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: How much the memo holds, in the weights results are put with (for pages: entries).
DEFAULT_BUDGET = 20_000


class Memo:
    """A thread-safe least-recently-used map from input digests to results, bounded by
    the total weight of what it holds (the oldest used goes first)."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._kept: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._weight = 0
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
            return found[0]

    def put(self, key: str, value: object, weight: int = 1) -> None:
        if weight > self.budget:
            return  # larger than the whole memo: computed again each time
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._kept[key] = (value, weight)
            self._weight += weight
            while self._weight > self.budget:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._weight -= dropped
