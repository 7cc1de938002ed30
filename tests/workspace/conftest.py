"""The ledger tests' small real workspace (real keys, a local store), for workspace tests."""

from tests.ledger.conftest import world

__all__ = ["world"]
