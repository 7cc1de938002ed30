"""The six-quarter ledger of fifty use cases, written once per test session (read-only)."""

from __future__ import annotations

import pytest

from tests.scale.ledger_plan import Generated, make_plan, plan_world, write_ledger


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Never modify it: tests that need another ledger build their own."""
    root = tmp_path_factory.mktemp("scale") / "ws"
    plans = make_plan()
    world = plan_world(root, plans)
    write_ledger(world, plans)
    return Generated(root, plans)
