"""Enforcement against the people a gate constrains: locks, clocks, approvals, deadlines.

Each test plays one way around a rule (a relaxed lock smuggled into an approval, a
chosen time, approvals carried over to amended criteria, a promotion past the hard
deadline) and shows where it is stopped: refused at write, or named by verification.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gates.canonical import digest_of
from gates.clock import ClockError
from gates.engine.actions import approve, promote, register
from gates.errors import LedgerError, PromotionRefused
from gates.ledger.verify import verify_ledger
from gates.results import Status, Verdict
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.forge import forge_entry, gate_record
from tests.support.world import World


def _forge(world: World, signer: Any, *, days: float, **kwargs: Any) -> int:
    return forge_entry(world.session, "alpha", signer, time=world.at(days), **kwargs)


def _relaxed_lock(world: World) -> dict[str, Any]:
    """Explore's locked criteria with the approvals and deliverables taken out."""
    lock = world.lock("alpha", Stage.EXPLORE)
    criteria = {**lock["criteria"], "approvals": {}, "deliverables": []}
    return {"stage": "explore", "digest": digest_of(criteria), "criteria": criteria}


# --- 1. Locks come only from the gate ----------------------------------------------


def test_an_approval_carrying_a_relaxed_lock_is_a_violation_and_never_adopted(
    world: World,
) -> None:
    world.register("alpha", 0)
    locked = world.session.ledger.state("alpha").lock
    assert locked is not None
    approval = {
        "purpose": "promotion",
        "role": "budget_owner",
        "approver": "lee",
        "from": "explore",
        "to": "poc",
        "criteriaDigest": locked.digest,
    }
    seq = _forge(
        world,
        world.budget_owner,
        kind="approval",
        after=Stage.EXPLORE,
        days=1,
        records={"approval": approval, "lock": _relaxed_lock(world)},
    )
    assert ("alpha", seq, "criteria-lock") in world.violations()
    replayed = world.session.ledger.replay("alpha")
    assert replayed.state.lock is not None and replayed.state.lock.digest == locked.digest
    # The gate does not run on a chain that fails verification: nothing more is written.
    with pytest.raises(LedgerError, match="criteria-lock"):
        world.promote("alpha", Stage.POC, 2)


def test_a_recheck_or_blocked_gate_carrying_a_lock_is_a_violation(world: World) -> None:
    world.register("alpha", 0)
    recheck = {
        "stage": "explore",
        "verdict": "ok",
        "policyDigest": "sha256:" + "00" * 32,
        "checks": [],
    }
    seq = _forge(
        world,
        world.session.signer,
        kind="recheck",
        after=Stage.EXPLORE,
        days=1,
        records={"recheck": recheck, "lock": _relaxed_lock(world)},
    )
    blocked = _forge(
        world,
        world.session.signer,
        kind="gate",
        after=Stage.EXPLORE,
        days=2,
        records={"gate": gate_record(world, "blocked"), "lock": _relaxed_lock(world)},
    )
    assert {
        ("alpha", seq, "criteria-lock"),
        ("alpha", blocked, "criteria-lock"),
    } <= world.violations()


# --- 2. The writer does not choose the time -----------------------------------------


def _system_clock(world: World) -> Session:
    return world.configure(clock=None)


def test_on_the_system_clock_a_chosen_time_is_refused_by_every_writer(world: World) -> None:
    session = _system_clock(world)
    far = session.clock.now() - timedelta(days=75)
    with pytest.raises(ClockError, match="runs on the system clock") as refused:
        register(session, "alpha", now=far)
    assert "[clock] simulated = true" in refused.value.diagnostics()
    entry = register(session, "alpha")
    assert entry.predicate.clock == "system"
    assert abs(entry.predicate.time - session.clock.now()) < timedelta(minutes=1)
    with pytest.raises(ClockError, match="refusing to record"):
        approve(
            session,
            "alpha",
            world.sponsor,
            role="sponsor",
            now=session.clock.now() + timedelta(days=3650),
        )
    with pytest.raises(ClockError):
        promote(session, "alpha", Stage.POC, now=far)
    assert len(session.ledger.entry_keys("alpha")) == 1


def test_the_cli_refuses_at_on_the_system_clock_with_one_clear_message(world: World) -> None:
    from tests.support.cli import run

    _system_clock(world)
    ws = str(world.root)
    result = run("--workspace", ws, "register", "alpha", "--at", "2026-01-05T09:00:00Z")
    assert result.returncode == 2, result.stderr
    assert "refusing to record" in result.stderr and "[clock] simulated = true" in result.stderr
    assert "Traceback" not in result.stderr
    key = str(world.root / "keys" / "sponsor.pem")
    register(world.session, "alpha")
    future = run("--workspace", ws, "approve", "alpha", "--role", "sponsor", "--key", key,
                 "--at", "9999-12-31T00:00:00Z")  # fmt: skip
    assert future.returncode == 2 and "refusing to record" in future.stderr
    assert len(world.session.ledger.entry_keys("alpha")) == 1


def test_a_simulated_clock_records_the_chosen_time_and_says_so(world: World) -> None:
    entry = world.register("alpha", 0)
    assert entry.predicate.time == world.at(0) and entry.predicate.clock == "simulated"


# --- 3. Approvals bind to what they approve -----------------------------------------


def _amend_budget(world: World, session: Session) -> Session:
    """The PoC budget is raised in the spec and re-locked by a sponsor-approved amendment."""
    session = world.edit_spec("alpha", "budgets: {poc: 5000,", "budgets: {poc: 9000,")
    world.approve("alpha", "sponsor", 4, purpose="amendment")
    world.amend("alpha", "PoC needs a second GPU", 5)
    return session


def test_approvals_given_before_an_amendment_no_longer_count_and_the_gate_names_them(
    world: World,
) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 2)
    session = _amend_budget(world, world.session)
    outcome = promote(session, "alpha", Stage.POC, now=world.at(10))
    assert outcome.evaluation.verdict is Verdict.BLOCKED
    failing = {r.check: r for r in outcome.evaluation.failing}
    assert set(failing) == {"approval:sponsor", "approval:budget_owner"}
    reason = failing["approval:budget_owner"].reason
    assert "superseded criteria" in reason and "lee (#2" in reason
    # Approving again under the amended criteria opens the gate.
    world.approve_exit("alpha", 11)
    assert promote(world.reopen(), "alpha", Stage.POC, now=world.at(12)).promoted
    assert verify_ledger(world.session.ledger).intact


def test_a_pass_citing_approvals_of_superseded_criteria_is_a_violation(world: World) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 2)
    session = _amend_budget(world, world.session)
    state = session.ledger.state("alpha")
    assert state.lock is not None
    seq = _forge(
        world,
        session.signer,
        kind="gate",
        after=Stage.POC,
        days=6,
        records={
            "gate": gate_record(world, "pass", digest=state.lock.digest, approvals=[1, 2]),
            "lock": world.lock("alpha", Stage.POC),
        },
    )
    rules = {rule for uc, s, rule in world.violations() if s == seq}
    assert {"approvals-cited", "approvals-missing"} <= rules


def test_an_approval_naming_other_criteria_or_another_stage_is_a_violation(
    world: World,
) -> None:
    world.register("alpha", 0)
    approval = {
        "purpose": "promotion",
        "role": "sponsor",
        "approver": "dana",
        "from": "explore",
        "to": "poc",
        "criteriaDigest": "sha256:" + "ab" * 32,
    }
    other = _forge(world, world.sponsor, kind="approval", after=Stage.EXPLORE, days=1,
                   records={"approval": approval})  # fmt: skip
    skipping = _forge(
        world, world.sponsor, kind="approval", after=Stage.EXPLORE, days=2,
        records={"approval": {**approval, "to": "pilot",
                              "criteriaDigest": world.lock("alpha", Stage.EXPLORE)["digest"]}},
    )  # fmt: skip
    assert {
        ("alpha", other, "approval-mismatch"),
        ("alpha", skipping, "approval-mismatch"),
    } <= world.violations()


def test_the_recorded_approver_is_the_trusted_keys_name(world: World) -> None:
    world.register("alpha", 0)
    entry = world.approve("alpha", "sponsor", 1)
    assert entry.predicate.approval is not None and entry.predicate.approval.approver == "dana"


def test_a_changed_budget_fails_the_criteria_lock_until_amended(world: World) -> None:
    world.register("alpha", 0)
    world.edit_spec("alpha", "budgets: {poc: 5000,", "budgets: {poc: 50000,")
    session = world.reopen()
    world.approve_exit("alpha", 2)
    outcome = promote(session, "alpha", Stage.POC, now=world.at(3))
    lock = next(r for r in outcome.evaluation.results if r.check == "criteria-lock")
    assert lock.status is Status.FAIL and not outcome.promoted


# --- 5. Hard deadlines --------------------------------------------------------------


def test_past_the_hard_maximum_the_gate_blocks(world: World) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 18)
    outcome = world.promote("alpha", Stage.POC, 20)
    assert outcome.evaluation.verdict is Verdict.BLOCKED
    (box,) = [r for r in outcome.evaluation.failing if r.check == "time-box"]
    assert box.status is Status.FAIL and "hard maximum of 14 days" in box.reason
    assert world.session.ledger.state("alpha").stage is Stage.EXPLORE


def test_a_sponsor_approved_extension_reopens_the_gate_and_is_recorded_as_such(
    world: World,
) -> None:
    world.register("alpha", 0)
    world.edit_spec(
        "alpha",
        "criteria:\n",
        "criteria:\n  explore:\n    time_box: {planned_days: 14, max_days: 21}\n",
    )
    world.approve("alpha", "sponsor", 13, purpose="amendment")
    extension = world.amend("alpha", "vendor data arrives late", 13)
    record = extension.predicate.amendment
    assert record is not None and record.extension is not None
    assert (record.extension.previous_max_days, record.extension.max_days) == (14, 21)
    world.approve_exit("alpha", 18)
    outcome = promote(world.reopen(), "alpha", Stage.POC, now=world.at(20))
    assert outcome.promoted, [r.reason for r in outcome.evaluation.failing]
    box = next(r for r in outcome.evaluation.results if r.check == "time-box")
    assert "extended by amendment #2" in str(box.expected)
    assert verify_ledger(world.session.ledger).intact


def test_a_forged_pass_after_the_hard_maximum_is_a_violation(world: World) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 1)
    seq = _forge(
        world,
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=30,
        records={
            "gate": gate_record(world, "pass", approvals=[1, 2]),
            "lock": world.lock("alpha", Stage.POC),
        },
    )
    assert ("alpha", seq, "time-box-exceeded") in world.violations()


def test_an_amendment_hiding_its_extension_is_a_violation(world: World) -> None:
    world.register("alpha", 0)
    state = world.session.ledger.state("alpha")
    assert state.lock is not None
    world.edit_spec(
        "alpha",
        "criteria:\n",
        "criteria:\n  explore:\n    time_box: {planned_days: 14, max_days: 60}\n",
    )
    session = world.reopen()
    approval = approve(session, "alpha", world.sponsor, role="sponsor", purpose="amendment",
                       now=world.at(1))  # fmt: skip
    seq = _forge(
        world,
        session.signer,
        kind="amendment",
        after=Stage.EXPLORE,
        days=2,
        records={
            "amendment": {
                "stage": "explore",
                "reason": "small wording fix",
                "previousDigest": state.lock.digest,
                "approvals": [approval.sequence],
            },
            "lock": world.lock("alpha", Stage.EXPLORE),
        },
    )
    assert ("alpha", seq, "amendment-extension") in world.violations()


def test_a_revoked_key_can_neither_approve_nor_pass_verification(world: World) -> None:
    world.register("alpha", 0)
    early = world.approve("alpha", "sponsor", 1)
    settings = world.root / "stagegate.toml"
    settings.write_text(
        settings.read_text().replace(
            'path = "keys/sponsor.pub"\nroles = ["sponsor"]',
            'path = "keys/sponsor.pub"\nroles = ["sponsor"]\nrevoked = true',
        )
    )
    session = world.reopen()
    with pytest.raises(PromotionRefused, match="revoked"):
        approve(session, "alpha", world.sponsor, role="sponsor", now=world.at(2))
    assert ("alpha", early.sequence, "signer-revoked") in world.violations()
