"""The UI tests' demo workspace: built once, copied for each test that changes it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.demo import build_demo


@pytest.fixture(scope="session")
def ui_demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pristine demo workspace. Never modify it: copy it with ``copy_demo``."""
    return build_demo(tmp_path_factory.mktemp("ui-demo") / "workspace")


@pytest.fixture
def copy_demo(ui_demo_root: Path, tmp_path: Path) -> Callable[[], Path]:
    def copy() -> Path:
        target = tmp_path / f"workspace-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(ui_demo_root, target)
        return target

    return copy
