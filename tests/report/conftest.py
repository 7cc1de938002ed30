"""One demo workspace for the report tests, built once; tests that change it use a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.demo import build_demo


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pristine demo workspace. Never modify it: copy it with ``demo_copy``."""
    return build_demo(tmp_path_factory.mktemp("report-demo") / "workspace")


@pytest.fixture
def demo_copy(demo_root: Path, tmp_path: Path) -> Path:
    target = tmp_path / "workspace"
    shutil.copytree(demo_root, target)
    return target
