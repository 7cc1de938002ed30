"""Journeys rest on the verified ledger; the spec only adds declared facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.errors import LedgerError
from gates.ledger.entry import entry_key
from gates.scale.metrics import ledger_metrics
from gates.scale.quarters import Quarter
from gates.workspace.session import Session
from tests.scale.ledger_plan import plan_world, straight, utc, write_ledger

AS_OF = utc("2026-10-15T12:00")


def test_a_chain_without_a_spec_counts_in_production_but_has_no_department(
    tmp_path: Path,
) -> None:
    plans = [
        straight("a", "support", "2026-05-01T09:00", "2026-07-20T09:00"),
        straight("b", "finance", "2026-05-02T09:00", "2026-08-20T09:00"),
    ]
    root = tmp_path / "ws"
    world = plan_world(root, plans)
    write_ledger(world, plans)
    (root / "usecases" / "b.yaml").unlink()  # the chain stays; its declared facts are gone
    session = Session.open(root)
    (q3,) = ledger_metrics(session.ledger, session.workspace, Quarter(2026, 3), AS_OF).quarters[-1:]
    assert [a.usecase for a in q3.arrivals] == ["a", "b"]
    assert [a.department for a in q3.arrivals] == ["support", None]
    assert (q3.departments, q3.departments_in_production) == (("support",), ("support",))
    assert [a.monthly_cost for a in q3.arrivals] == [1500.0, 1500.0]  # from the signed gate


def test_metrics_refuse_a_ledger_that_fails_verification(tmp_path: Path) -> None:
    plans = [straight("a", "support", "2026-05-01T09:00", "2026-07-20T09:00")]
    root = tmp_path / "ws"
    world = plan_world(root, plans)
    write_ledger(world, plans)
    (root / "ledger" / entry_key("a", 5)).unlink()  # a gap in the chain
    session = Session.open(root)
    with pytest.raises(LedgerError, match=r"'a' fails verification"):
        ledger_metrics(session.ledger, session.workspace, Quarter(2026, 3), AS_OF)
