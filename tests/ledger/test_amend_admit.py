"""Criteria locks and amendments, rollbacks, and the admission question a deploy asks."""

from __future__ import annotations

import pytest

from gates.engine.actions import admit, approve, decide, promote
from gates.errors import PromotionRefused
from gates.ledger.verify import verify_ledger
from gates.results import Status, Verdict
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.world import World


def _into_poc(world: World) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 9)
    assert world.promote("alpha", Stage.POC, 10).promoted


def test_criteria_changed_after_the_stage_started_fail_the_gate(world: World) -> None:
    world.register("alpha", 0)
    world.edit_spec(
        "alpha", "criteria:\n", "criteria:\n  explore:\n    approvals: {budget_owner: 0}\n"
    )
    session = world.reopen()
    approve(session, "alpha", world.sponsor, role="sponsor", now=world.at(9))
    outcome = promote(session, "alpha", Stage.POC, now=world.at(10))
    assert outcome.evaluation.verdict is Verdict.BLOCKED
    lock = next(r for r in outcome.evaluation.results if r.check == "criteria-lock")
    assert lock.status is Status.FAIL and "amendment" in lock.reason


def test_an_approved_amendment_relocks_the_criteria(world: World) -> None:
    world.register("alpha", 0)
    world.edit_spec(
        "alpha", "criteria:\n", "criteria:\n  explore:\n    approvals: {budget_owner: 0}\n"
    )
    reason = "budget owner sign-off moved to the PoC gate"
    with pytest.raises(PromotionRefused, match="sponsor's signed approval"):
        world.amend("alpha", reason, 2)
    world.approve("alpha", "sponsor", 2, purpose="amendment")
    world.amend("alpha", reason, 3)
    world.approve("alpha", "sponsor", 9)
    outcome = world.promote("alpha", Stage.POC, 10)
    assert outcome.promoted, [str(r) for r in outcome.evaluation.failing]
    assert verify_ledger(world.session.ledger).intact


def test_rollback_moves_one_step_back_and_relocks(world: World) -> None:
    _into_poc(world)
    with pytest.raises(PromotionRefused, match="cannot roll back"):
        decide(world.session, "alpha", "rollback", reason="x", to=Stage.EXPLORE, now=world.at(11),
               sponsor=world.sponsor)  # fmt: skip
    assert world.session.ledger.state("alpha").stage is Stage.POC


def test_admit_says_no_without_a_passing_gate_naming_that_model(world: World) -> None:
    _into_poc(world)
    result = admit(world.session, "alpha", Stage.PILOT, "alpha-model", "1")
    assert not result.admitted and "not pilot" in result.reason
    result = admit(world.session, "alpha", Stage.POC, "alpha-model", "1")
    assert not result.admitted and "no model version" in result.reason


def test_admit_refuses_a_tampered_ledger(world: World) -> None:
    from gates.errors import LedgerError
    from gates.ledger.entry import entry_key

    _into_poc(world)
    path = world.root / "ledger" / entry_key("alpha", 3)
    path.write_bytes(path.read_bytes().replace(b'"payload":"', b'"payload":"A', 1))
    with pytest.raises(LedgerError, match="fails verification"):
        admit(Session.open(world.root), "alpha", Stage.POC, "m", "1")
