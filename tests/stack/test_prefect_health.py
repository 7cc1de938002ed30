"""The Prefect health probe answers within its timeout, whatever the server does.

A healthy answer is covered where real servers run: ``stagegate stack status`` and
``stack up`` (tests/stack/test_local_stack.py) and ``stagegate serve``
(tests/flows/test_deployments.py) all go through ``prefect_api_healthy``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from gates.stack.prefect_server import prefect_api_healthy
from gates.stack.process import free_ports


@pytest.fixture(autouse=True)
def _prefect_imported() -> None:
    """Time the probe, not the first import of Prefect's client (a second or two)."""
    import prefect.client.orchestration  # noqa: F401


@pytest.fixture
def silent_api() -> Iterator[str]:
    """An API URL whose server accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"


def test_a_server_that_never_answers_is_unhealthy_after_one_timeout(silent_api: str) -> None:
    started = time.monotonic()
    assert prefect_api_healthy(silent_api, timeout=0.3) is False
    # Prefect's client would try five more times, pausing 2, 4, 8, 16 and 32 s.
    assert time.monotonic() - started < 1.8


def test_nothing_listening_is_unhealthy_without_connection_retries() -> None:
    nobody = f"http://127.0.0.1:{free_ports(1)[0]}/api"
    started = time.monotonic()
    assert prefect_api_healthy(nobody, timeout=2.0) is False
    # Prefect's own transport retries a refused connection after 0.5 s and 1 s more.
    assert time.monotonic() - started < 1.5
