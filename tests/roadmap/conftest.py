"""The roadmap tests' world: use cases that walk the roadmap on a chosen calendar.

Stage moves are signed entries in a real local ledger: Explore → PoC through the real
gate (``World.promote_approved``), later gates signed like the gate service signs them
(``World.record_pass``), decisions and re-checks as the engine records them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.presets import roadmap_world
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return roadmap_world(tmp_path / "ws")
