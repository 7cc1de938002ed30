"""Fixtures the engine's tests share with others: the small ledger world, a webhook receiver."""

from tests.alerts.conftest import receiver
from tests.ledger.conftest import world

__all__ = ["receiver", "world"]
