"""Pausing Python's cyclic garbage collector while a page keeps a chain's entries.

A use-case page keeps every verified entry of its chain. Each one leaves a few dozen
objects alive, and CPython starts a collection every 700 net allocations, then scans the
survivors again in older generations: for a chain of a thousand entries that is dozens
of collections finding nothing, a tenth of the whole page. Reference counting still
frees everything that is not a cycle while the collector is paused; the collector runs
again as soon as the last page keeping entries is done.

The collector is one per process and pages are built in threads, so pauses are counted:
the first to start turns it off (unless someone else already had), the last to end turns
it back on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
#: Whether the collector was on when the first of the current pauses started.
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (reference counting still on)."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
