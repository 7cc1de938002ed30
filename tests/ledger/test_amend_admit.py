"""Criteria locks and amendments, rollbacks, and the admission question a deploy asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.engine.actions import admit, amend, approve, decide, promote, register
from gates.errors import PromotionRefused
from gates.ledger.verify import verify_ledger
from gates.results import Status, Verdict
from gates.stages import Stage
from gates.workspace.session import Session

from .conftest import LedgerWorld


def _into_poc(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    world.approve_explore_exit()
    assert promote(world.session, "alpha", Stage.POC, now=world.at(10)).promoted


def _edit_spec(root: Path, old: str, new: str) -> None:
    spec = root / "usecases" / "alpha.yaml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


def test_criteria_changed_after_the_stage_started_fail_the_gate(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    _edit_spec(
        world.root, "criteria:\n", "criteria:\n  explore:\n    approvals: {budget_owner: 0}\n"
    )
    session = world.reopen()
    approve(session, "alpha", world.sponsor, role="sponsor", now=world.at(9))
    outcome = promote(session, "alpha", Stage.POC, now=world.at(10))
    assert outcome.evaluation.verdict is Verdict.BLOCKED
    lock = next(r for r in outcome.evaluation.results if r.check == "criteria-lock")
    assert lock.status is Status.FAIL and "amendment" in lock.reason


def test_an_approved_amendment_relocks_the_criteria(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    _edit_spec(
        world.root, "criteria:\n", "criteria:\n  explore:\n    approvals: {budget_owner: 0}\n"
    )
    session = world.reopen()
    with pytest.raises(PromotionRefused, match="sponsor's signed approval"):
        amend(
            session, "alpha", reason="budget owner sign-off moved to the PoC gate", now=world.at(2)
        )
    approve(
        session,
        "alpha",
        world.sponsor,
        role="sponsor",
        purpose="amendment",
        now=world.at(2),
    )
    amend(session, "alpha", reason="budget owner sign-off moved to the PoC gate", now=world.at(3))
    approve(session, "alpha", world.sponsor, role="sponsor", now=world.at(9))
    outcome = promote(session, "alpha", Stage.POC, now=world.at(10))
    assert outcome.promoted, [str(r) for r in outcome.evaluation.failing]
    assert verify_ledger(session.ledger).intact


def test_rollback_moves_one_step_back_and_relocks(world: LedgerWorld) -> None:
    _into_poc(world)
    with pytest.raises(PromotionRefused, match="cannot roll back"):
        decide(world.session, "alpha", "rollback", reason="x", to=Stage.EXPLORE, now=world.at(11),
               sponsor=world.sponsor)  # fmt: skip
    assert world.session.ledger.state("alpha").stage is Stage.POC


def test_admit_says_no_without_a_passing_gate_naming_that_model(world: LedgerWorld) -> None:
    _into_poc(world)
    result = admit(world.session, "alpha", Stage.PILOT, "alpha-model", "1")
    assert not result.admitted and "not pilot" in result.reason
    result = admit(world.session, "alpha", Stage.POC, "alpha-model", "1")
    assert not result.admitted and "no model version" in result.reason


def test_admit_refuses_a_tampered_ledger(world: LedgerWorld) -> None:
    from gates.errors import LedgerError
    from gates.ledger.entry import entry_key

    _into_poc(world)
    path = world.root / "ledger" / entry_key("alpha", 3)
    path.write_bytes(path.read_bytes().replace(b'"payload":"', b'"payload":"A', 1))
    with pytest.raises(LedgerError, match="fails verification"):
        admit(Session.open(world.root), "alpha", Stage.POC, "m", "1")
