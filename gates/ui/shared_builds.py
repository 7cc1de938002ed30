"""Concurrent requests for the same page share one build, never an older one.

A request joins the build of its page that has not started yet, or starts one; a build
starts only once the previous build of that page has finished. So every page is built
after every request it answers arrived — it shows the store as it was then, never
before — and twenty clients asking at once cost two builds, not twenty.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Build(Generic[T]):
    done: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None


class SharedBuilds(Generic[T]):
    """Builds keyed by page; ``run`` returns the result of a build that started after it was called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, _Build[T]] = {}
        self._building: dict[str, threading.Lock] = {}
        #: Builds made, and requests answered by a build another request started.
        self.builds = 0
        self.shared = 0

    def run(self, key: str, build: Callable[[], T]) -> T:
        with self._lock:
            pending = self._waiting.get(key)
            leads = pending is None
            if pending is None:
                pending = self._waiting[key] = _Build()
            else:
                self.shared += 1
            turn = self._building.setdefault(key, threading.Lock())
        if leads:
            with turn:  # the previous build of this page finishes first
                with self._lock:
                    # Requests arriving from now on wait for the next build.
                    del self._waiting[key]
                    self.builds += 1
                try:
                    pending.result = build()
                except BaseException as e:  # handed to every request sharing the build
                    pending.error = e
                finally:
                    pending.done.set()
        else:
            pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]
