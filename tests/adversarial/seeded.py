"""The suite's one seed (workspace keys derive from it too: ``World.create(key_seed=SEED)``)."""

from __future__ import annotations

import fcntl
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SEED = 20260105


def cases(count: int, salt: int) -> Iterator[tuple[int, random.Random]]:
    """``count`` cases of one family, each with its own generator: case N replays alone."""
    for number in range(count):
        yield number, random.Random(SEED * 1_000_003 + salt * 10_007 + number)


@contextmanager
def fixed_folder(name: str) -> Iterator[Path]:
    """An empty folder at the same path on every run, removed afterwards.

    Signed gate entries record absolute evidence paths, so a world built in a fresh
    temporary folder would differ, byte for byte, from run to run. Two runs on one
    machine take turns on an exclusive lock.
    """
    base = Path(tempfile.gettempdir()) / name
    with (base.parent / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir()
        try:
            yield base
        finally:
            shutil.rmtree(base, ignore_errors=True)
