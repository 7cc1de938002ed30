"""`stagegate decide` as a sponsor and an operator use it: the sponsor's key signs, the gate records."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.cli import run
from tests.support.presets import ledger_world

REASON = "data not accessible"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    world = ledger_world(tmp_path / "ws")
    world.register("alpha", 0)
    return world.root


def test_decide_with_the_sponsors_key_signs_her_approval_then_records_the_no_go(ws: Path) -> None:
    result = run(
        "--workspace", str(ws), "decide", "alpha", "no-go", "--reason", REASON,
        "--key", "keys/sponsor.pem", "--at", "2026-01-08T09:00:00Z", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown == {
        "useCase": "alpha",
        "sequence": 2,
        "decision": "no-go",
        "stage": "stopped",
        "decider": "dana",
        "approvals": [1],
    }
    history = Session.open(ws).ledger.state("alpha").history
    approval = history[1].predicate.approval
    assert approval is not None and approval.purpose == "decision" and approval.approver == "dana"


def test_decide_without_a_key_or_an_approval_exits_2_saying_how_the_sponsor_signs(
    ws: Path,
) -> None:
    result = run("--workspace", str(ws), "decide", "alpha", "no-go", "--reason", REASON)
    assert result.returncode == 2
    assert "needs a sponsor's signed approval" in result.stderr
    assert "--key SPONSOR_KEY" in result.stderr and "Traceback" not in result.stderr
    assert Session.open(ws).ledger.state("alpha").stage is Stage.EXPLORE


def test_a_sponsors_approval_first_then_decide_records_it_with_her_reason(ws: Path) -> None:
    approved = run(
        "--workspace", str(ws), "approve", "alpha", "--role", "sponsor", "--decision", "no-go",
        "--reason", REASON, "--key", "keys/sponsor.pem", "--at", "2026-01-08T09:00:00Z",
    )  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    started = time.monotonic()
    decided = run(
        "--workspace", str(ws), "decide", "alpha", "no-go", "--wait", "30",
        "--at", "2026-01-08T10:00:00Z",
    )  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    assert time.monotonic() - started < 30  # the approval was there: nothing to wait for
    assert "no-go by dana recorded" in decided.stdout
    d = Session.open(ws).ledger.state("alpha").history[-1].predicate.decision
    assert d is not None and d.reason == REASON and d.approvals == [1] and d.decider == "dana"


def test_a_decision_approval_as_another_role_is_refused_by_name(ws: Path) -> None:
    result = run(
        "--workspace", str(ws), "approve", "alpha", "--role", "budget_owner",
        "--decision", "no-go", "--reason", REASON, "--key", "keys/budget.pem",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--role" in result.stderr and "approved as sponsor" in result.stderr
