"""No-Go and rollback decisions: a sponsor decides with their own key, the gate records it.

The sponsor signs a decision approval (the decision, its reason and target stage, under
the criteria in force); the gate's ``decision`` entry cites it and names the decider
from the trusted-key list. Verification refuses a decision without a cited, matching
sponsor approval, whatever wrote it.
"""

from __future__ import annotations

from typing import Any

import pytest

from gates.engine.actions import amend, approve, approve_decision, decide, register
from gates.errors import LedgerError, PromotionRefused
from gates.ledger.verify import verify_ledger
from gates.signing.signers import Signer
from gates.stages import Stage
from tests.support.forge import forge_entry
from tests.support.world import World

REASON = "no measurable outcome"


def forge(
    world: World,
    usecase: str,
    signer: Signer,
    *,
    kind: str,
    after: Stage,
    days: float,
    records: dict[str, Any],
) -> int:
    """Sign a next entry like the ledger does, but store it past the writer's checks."""
    return forge_entry(
        world.session, usecase, signer, kind=kind, after=after, time=world.at(days),
        records=records,
    )  # fmt: skip


def found(world: World) -> set[tuple[str, int | None, str]]:
    return world.violations()


def _decision_record(approvals: list[int], **changes: Any) -> dict[str, Any]:
    record = {
        "decision": "no-go",
        "reason": REASON,
        "to": "stopped",
        "approvals": approvals,
        "decider": "dana",
    }
    return {"decision": {**record, **changes}}


def _forge_decision(world: World, days: float, **record: Any) -> int:
    """The gate key writes a No-Go straight to the store, past the engine's own checks."""
    return forge(
        world, "alpha", world.session.signer, kind="decision", after=Stage.STOPPED, days=days,
        records=record,
    )  # fmt: skip


# --- the honest path ---------------------------------------------------------------


def test_a_no_go_is_signed_by_the_sponsors_own_key_and_recorded_by_the_gate(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))

    entry = decide(
        world.session, "alpha", "no-go", reason=REASON, now=world.at(3), sponsor=world.sponsor
    )

    state = world.session.ledger.state("alpha")
    approval = state.history[entry.sequence - 1]
    assert approval.predicate.kind == "approval" and approval.predicate.approval is not None
    assert approval.signer_keyids == {world.sponsor.keyid}
    a = approval.predicate.approval
    assert (a.purpose, a.role, a.approver, a.to_stage) == ("decision", "sponsor", "dana", "stopped")
    assert a.decision is not None and (a.decision.decision, a.decision.reason) == ("no-go", REASON)
    register_lock = state.history[0].predicate.lock
    assert register_lock is not None and a.criteria_digest == register_lock.digest
    assert entry.signer_keyids == {world.session.signer.keyid}
    d = entry.predicate.decision
    assert d is not None
    assert (d.decision, d.reason, d.approvals, d.decider) == (
        "no-go",
        REASON,
        [approval.sequence],
        "dana",
    )
    assert state.stage is Stage.STOPPED
    assert verify_ledger(world.session.ledger).intact


def test_decide_carries_out_an_approval_already_in_the_ledger_with_its_reason(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))
    approval = approve_decision(
        world.session, "alpha", world.sponsor, "no-go", reason=REASON, now=world.at(2)
    )

    entry = decide(world.session, "alpha", "no-go", reason=None, now=world.at(3))

    d = entry.predicate.decision
    assert d is not None and d.reason == REASON and d.approvals == [approval.sequence]
    assert verify_ledger(world.session.ledger).intact


# --- refused at write --------------------------------------------------------------


def test_a_decision_without_a_sponsors_approval_is_refused_and_writes_nothing(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))
    with pytest.raises(PromotionRefused, match="needs a sponsor's signed approval") as refused:
        decide(world.session, "alpha", "no-go", reason=REASON, now=world.at(3))
    assert "--key SPONSOR_KEY" in (refused.value.hint or "")
    assert world.session.ledger.state("alpha").next_sequence == 1


def test_an_approval_of_another_reason_or_decision_does_not_count(world: World) -> None:
    register(world.session, "alpha", now=world.at(0))
    approve_decision(
        world.session, "alpha", world.sponsor, "no-go", reason="budget cut", now=world.at(1)
    )
    with pytest.raises(PromotionRefused, match="with this reason"):
        decide(world.session, "alpha", "no-go", reason=REASON, now=world.at(2))
    assert world.session.ledger.state("alpha").stage is Stage.EXPLORE


def test_only_a_sponsors_key_signs_a_decision_approval(world: World) -> None:
    register(world.session, "alpha", now=world.at(0))
    with pytest.raises(PromotionRefused, match="may not sign as 'sponsor'"):
        decide(
            world.session, "alpha", "no-go", reason=REASON, now=world.at(1),
            sponsor=world.budget_owner,
        )  # fmt: skip
    with pytest.raises(PromotionRefused, match="not in the trusted-key list"):
        approve_decision(
            world.session, "alpha", world.outsider, "no-go", reason=REASON, now=world.at(1)
        )
    assert world.session.ledger.state("alpha").next_sequence == 1


def test_a_decision_approval_given_before_an_amendment_is_stale(world: World) -> None:
    register(world.session, "alpha", now=world.at(0))
    stale = approve_decision(
        world.session, "alpha", world.sponsor, "no-go", reason=REASON, now=world.at(1)
    )
    spec = world.root / "usecases" / "alpha.yaml"
    spec.write_text(
        spec.read_text().replace(
            "criteria:\n", "criteria:\n  explore:\n    approvals: {budget_owner: 0}\n"
        )
    )
    session = world.reopen()
    approve(session, "alpha", world.sponsor, role="sponsor", purpose="amendment", now=world.at(2))
    amend(session, "alpha", reason="budget owner signs at PoC", now=world.at(3))

    with pytest.raises(PromotionRefused, match="under the criteria in force"):
        decide(session, "alpha", "no-go", reason=REASON, now=world.at(4))
    seq = _forge_decision(world, 4, **_decision_record([stale.sequence]))
    assert ("alpha", seq, "decision-unapproved") in found(world)


# --- named by verification ---------------------------------------------------------


def test_a_decision_citing_no_approval_is_decision_unapproved(world: World) -> None:
    register(world.session, "alpha", now=world.at(0))
    seq = _forge_decision(world, 1, **_decision_record([]))
    violations = [v for v in verify_ledger(world.session.ledger).violations if v.sequence == seq]
    assert [v.rule for v in violations] == ["decision-unapproved"]
    assert "cites no sponsor's signed approval" in violations[0].message


def test_a_decision_without_approvals_or_decider_from_an_older_writer_is_decision_unapproved(
    world: World,
) -> None:
    """The entry format before decisions cited approvals: such a No-Go no longer verifies."""
    register(world.session, "alpha", now=world.at(0))
    seq = _forge_decision(
        world, 1, decision={"decision": "no-go", "reason": REASON, "to": "stopped"}
    )
    assert ("alpha", seq, "decision-unapproved") in found(world)


def test_a_decision_citing_a_promotion_approval_is_decision_unapproved(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))
    promotion = approve(world.session, "alpha", world.sponsor, role="sponsor", now=world.at(1))
    seq = _forge_decision(world, 2, **_decision_record([promotion.sequence]))
    violation = next(v for v in verify_ledger(world.session.ledger).violations if v.sequence == seq)
    assert violation.rule == "decision-unapproved"
    assert f"#{promotion.sequence}" in violation.message


def test_a_decision_with_another_reason_than_its_approval_is_decision_unapproved(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))
    approval = approve_decision(
        world.session, "alpha", world.sponsor, "no-go", reason="budget cut", now=world.at(1)
    )
    seq = _forge_decision(world, 2, **_decision_record([approval.sequence]))
    assert ("alpha", seq, "decision-unapproved") in found(world)


def test_a_decision_naming_someone_else_as_decider_is_decision_decider(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))
    approval = approve_decision(
        world.session, "alpha", world.sponsor, "no-go", reason=REASON, now=world.at(1)
    )
    seq = _forge_decision(world, 2, **_decision_record([approval.sequence], decider="lee"))
    assert found(world) == {("alpha", seq, "decision-decider")}


def test_a_decision_approval_signed_by_a_budget_owner_is_a_violation(world: World) -> None:
    register(world.session, "alpha", now=world.at(0))
    lock = world.session.ledger.state("alpha").lock
    assert lock is not None
    approval = {
        "purpose": "decision",
        "role": "budget_owner",
        "approver": "lee",
        "from": "explore",
        "to": "stopped",
        "criteriaDigest": lock.digest,
        "decision": {"decision": "no-go", "reason": REASON},
    }
    by_budget_owner = forge(
        world, "alpha", world.budget_owner, kind="approval", after=Stage.EXPLORE, days=1,
        records={"approval": approval},
    )  # fmt: skip
    posing_as_sponsor = forge(
        world, "alpha", world.budget_owner, kind="approval", after=Stage.EXPLORE, days=1,
        records={"approval": {**approval, "role": "sponsor", "approver": "dana"}},
    )  # fmt: skip
    seq = _forge_decision(
        world, 2, **_decision_record([by_budget_owner, posing_as_sponsor], decider="lee")
    )
    assert {
        ("alpha", by_budget_owner, "approval-mismatch"),
        ("alpha", posing_as_sponsor, "signer-role"),
        ("alpha", seq, "decision-unapproved"),
    } <= found(world)


def test_a_decision_approval_of_an_illegal_move_or_other_criteria_is_approval_mismatch(
    world: World,
) -> None:
    register(world.session, "alpha", now=world.at(0))
    lock = world.session.ledger.state("alpha").lock
    assert lock is not None
    approval = {
        "purpose": "decision",
        "role": "sponsor",
        "approver": "dana",
        "from": "explore",
        "to": "stopped",
        "criteriaDigest": lock.digest,
        "decision": {"decision": "rollback", "reason": REASON},  # no rollback from Explore
    }
    rollback = forge(
        world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE, days=1,
        records={"approval": approval},
    )  # fmt: skip
    other_criteria = forge(
        world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE, days=1,
        records={"approval": {**approval, "criteriaDigest": "sha256:" + "ab" * 32,
                              "decision": {"decision": "no-go", "reason": REASON}}},
    )  # fmt: skip
    undecided = forge(
        world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE, days=1,
        records={"approval": {k: v for k, v in approval.items() if k != "decision"}},
    )  # fmt: skip
    assert {
        ("alpha", rollback, "approval-mismatch"),
        ("alpha", other_criteria, "approval-mismatch"),
        ("alpha", undecided, "approval-mismatch"),
    } <= found(world)


def test_a_chain_with_an_unapproved_decision_cannot_be_written_to(world: World) -> None:
    register(world.session, "beta", now=world.at(0))
    register(world.session, "alpha", now=world.at(0))
    _forge_decision(world, 1, **_decision_record([]))
    with pytest.raises(LedgerError, match="decision-unapproved"):
        approve(world.session, "alpha", world.sponsor, role="sponsor", now=world.at(2))
    assert verify_ledger(world.session.ledger).chains[1].entries == 1  # beta untouched


# --- waiting for the sponsor -------------------------------------------------------


def test_waiting_for_a_decision_approval_ends_when_the_sponsor_signs(world: World) -> None:
    from gates.engine.approvals import wait_for_decision_approval

    register(world.session, "alpha", now=world.at(0))
    pauses: list[float] = []

    def sponsor_signs_meanwhile(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            approve_decision(
                world.session, "alpha", world.sponsor, "no-go", reason=REASON, now=world.at(1)
            )

    arrived = wait_for_decision_approval(
        world.session, "alpha", "no-go", "stopped", None, timeout=600, poll=5,
        sleep=sponsor_signs_meanwhile,
    )  # fmt: skip
    assert arrived and pauses == [5, 5]


def test_waiting_for_a_decision_approval_gives_up_at_the_timeout(world: World) -> None:
    from gates.engine.approvals import wait_for_decision_approval

    register(world.session, "alpha", now=world.at(0))
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    arrived = wait_for_decision_approval(
        world.session, "alpha", "no-go", "stopped", REASON, timeout=12, poll=5,
        sleep=sleep, monotonic=lambda: clock[0],
    )  # fmt: skip
    assert not arrived and clock[0] == 12
