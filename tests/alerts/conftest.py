"""The alert tests' fixtures: a dead loopback URL, no ambient webhook, a signed ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gates.alerts import WEBHOOK_ENV
from tests.support.ports import refusing_port
from tests.support.presets import ledger_world
from tests.support.world import World


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A loopback URL on a port that refuses connections for the whole test."""
    with refusing_port() as port:
        yield f"http://127.0.0.1:{port}/hook"


@pytest.fixture(autouse=True)
def _no_ambient_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook URL in the developer's environment must not reach the tests."""
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A real workspace with signed entries: the history the ``previous_*`` helpers read."""
    return ledger_world(tmp_path / "ws")
