"""The re-check tests' world: gates that check time boxes only, so use cases reach any
stage fast, with production monitoring data, alert rules and operations documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.presets import recheck_world
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return recheck_world(tmp_path / "ws")
