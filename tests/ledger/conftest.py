"""The ledger tests' world: alpha and beta in a real workspace with real keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.presets import ledger_world
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return ledger_world(tmp_path / "ws")


@pytest.fixture(params=["local", "s3"])
def anywhere(request: pytest.FixtureRequest, world: World) -> World:
    """The same world, its ledger either in the local folder or in a SeaweedFS bucket."""
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        world.use_store(f"s3://{bucket}/ledger")
        assert world.session.store.uri.startswith("s3://")
    return world
