"""Flow tests run against one real Prefect API (the test harness) and real workspaces.

The harness starts a Prefect server on a temporary SQLite database; it takes seconds,
so one serves the whole session, and only the tests in this folder pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.presets import gate_spec, gate_world
from tests.support.world import World


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    # Prefect's 30 s default is not always enough on a machine busy with other work.
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def world(tmp_path: Path) -> World:
    """``UC`` registered and approved, its Explore deliverables in place."""
    return gate_world(tmp_path / "ws", gate_spec())
