"""The workspace tests' world: alpha and beta in a real workspace with real keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.presets import ledger_world
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return ledger_world(tmp_path / "ws")
