"""A loopback port nothing answers on, for tests of unreachable services."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses every connection for as long as this lasts.

    Bound but not listening: a connection is refused at once, and no server can start
    listening there meanwhile, as one could on a port merely found free and released
    (servers that other tests start pick theirs the same way).
    """
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])
