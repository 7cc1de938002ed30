"""The Explore tests' candidates file, and a real workspace to select them in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.candidates import CANDIDATES, write_yaml
from tests.support.presets import ledger_world


@pytest.fixture
def candidates_file(tmp_path: Path) -> Path:
    return write_yaml(tmp_path / "candidates.yaml", CANDIDATES)


@pytest.fixture
def explore_ws(tmp_path: Path) -> Path:
    """A workspace (specs alpha and beta, real keys, local ledger) with the candidates file."""
    root = ledger_world(tmp_path / "ws").root
    write_yaml(root / "explore" / "candidates.yaml", CANDIDATES)
    return root
