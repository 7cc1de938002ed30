"""Tampering with stored entries is detected and each violation names the entry and rule."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates import __version__
from gates.canonical import canonical_json
from gates.engine.actions import approve, decide, register
from gates.ledger.entry import Violation, entry_key
from gates.ledger.statement import PREDICATE_TYPE, STATEMENT_TYPE, usecase_subject
from gates.ledger.verify import verify_ledger
from gates.policy.effective import criteria_digest
from gates.signing.dsse import sign_envelope
from gates.signing.signers import Signer
from gates.stages import Stage

from .conftest import LedgerWorld


def _chain(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    approve(world.session, "alpha", world.sponsor, role="sponsor", now=world.at(1))
    approve(
        world.session,
        "alpha",
        world.budget_owner,
        role="budget_owner",
        now=world.at(2),
    )
    decide(world.session, "alpha", "no-go", reason="priorities changed", now=world.at(3),
           sponsor=world.sponsor)  # fmt: skip
    register(world.session, "beta", now=world.at(0))


def _path(world: LedgerWorld, usecase: str, seq: int) -> Path:
    return world.root / "ledger" / entry_key(usecase, seq)


@pytest.fixture
def chained(world: LedgerWorld) -> LedgerWorld:
    _chain(world)
    return world


def test_intact_ledger_verifies_clean(chained: LedgerWorld) -> None:
    report = verify_ledger(chained.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.entries == 6  # the No-Go is an approval by the sponsor and the decision


def test_flipped_payload_byte_is_detected_at_that_entry(chained: LedgerWorld) -> None:
    path = _path(chained, "alpha", 1)
    doc = json.loads(path.read_bytes())
    payload = bytearray(base64.b64decode(doc["payload"]))
    payload[40] ^= 0x01
    doc["payload"] = base64.b64encode(bytes(payload)).decode()
    path.write_text(json.dumps(doc))
    report = verify_ledger(chained.session.ledger)
    assert not report.intact
    first = report.violations[0]
    assert (first.usecase, first.sequence, first.rule) == ("alpha", 1, "signature-invalid")


def test_flipped_signature_byte_is_detected(chained: LedgerWorld) -> None:
    path = _path(chained, "alpha", 2)
    doc = json.loads(path.read_bytes())
    sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
    sig[0] ^= 0x80
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    path.write_text(json.dumps(doc))
    rules = {(v.sequence, v.rule) for v in verify_ledger(chained.session.ledger).violations}
    assert (2, "signature-invalid") in rules


def test_truncated_envelope_is_detected(chained: LedgerWorld) -> None:
    path = _path(chained, "alpha", 2)
    path.write_bytes(path.read_bytes()[:50])
    rules = {(v.sequence, v.rule) for v in verify_ledger(chained.session.ledger).violations}
    assert (2, "envelope-malformed") in rules


def test_deleted_middle_entry_is_a_gap(chained: LedgerWorld) -> None:
    _path(chained, "alpha", 1).unlink()
    violations = verify_ledger(chained.session.ledger).violations
    assert any(
        v.sequence == 2 and v.rule == "sequence-gap" and "expected entry 1" in v.message
        for v in violations
    )


def test_swapped_entries_are_detected(chained: LedgerWorld) -> None:
    a, b = _path(chained, "alpha", 1), _path(chained, "alpha", 2)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    rules = {(v.sequence, v.rule) for v in verify_ledger(chained.session.ledger).violations}
    assert (1, "sequence-mismatch") in rules and (2, "sequence-mismatch") in rules


def test_entry_copied_into_another_chain_is_detected(chained: LedgerWorld) -> None:
    target = _path(chained, "beta", 1)
    target.write_bytes(_path(chained, "alpha", 1).read_bytes())
    violations = verify_ledger(chained.session.ledger).violations
    assert any(
        v.usecase == "beta" and v.sequence == 1 and v.rule == "subject-mismatch" for v in violations
    )


def test_stage_derivation_refuses_a_tampered_chain(chained: LedgerWorld) -> None:
    _path(chained, "alpha", 1).unlink()
    from gates.errors import LedgerError

    with pytest.raises(LedgerError, match=r"alpha#2.*sequence-gap"):
        chained.session.ledger.state("alpha")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, 3), position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_single_bit_flip_in_any_entry_is_detected(
    chained: LedgerWorld, seq: int, position: int, bit: int
) -> None:
    path = _path(chained, "alpha", seq)
    original = path.read_bytes()
    data = bytearray(original)
    data[position % len(data)] ^= 1 << bit
    path.write_bytes(bytes(data))
    try:
        report = verify_ledger(chained.session.ledger)
        if bytes(data) != original:
            decoded_same = _same_meaning(original, bytes(data))
            assert decoded_same or not report.intact
    finally:
        path.write_bytes(original)


# --- Forged entries: written straight to the store, bypassing the writer's own checks ---


def forge(
    world: LedgerWorld,
    usecase: str,
    signer: Signer,
    *,
    kind: str,
    after: Stage,
    days: float,
    records: dict[str, Any],
) -> int:
    """Sign a next entry like ``Ledger.append`` does, but write it without verifying it."""
    ledger = world.session.ledger
    state = ledger.replay(usecase).state
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [usecase_subject(usecase).model_dump()],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "useCase": usecase,
            "sequence": state.next_sequence,
            "previous": state.head_digest,
            "kind": kind,
            "time": world.at(days).isoformat().replace("+00:00", "Z"),
            "clock": ledger.clock.kind,
            "actor": "mallory",
            "tool": {"name": "stagegate", "version": __version__},
            "stage": {"before": state.stage.value if state.stage else None, "after": after.value},
            **records,
        },
    }
    raw = sign_envelope(canonical_json(statement), signer).to_json_bytes()
    ledger.store.put_new(entry_key(usecase, state.next_sequence), raw)
    return state.next_sequence


def lock_of(world: LedgerWorld, usecase: str, stage: Stage) -> dict[str, Any]:
    criteria = world.session.workspace.criteria(world.session.workspace.usecase(usecase), stage)
    return {
        "stage": stage.value,
        "digest": criteria_digest(criteria),
        "criteria": criteria.model_dump(mode="json"),
    }


def gate_record(
    world: LedgerWorld,
    verdict: str,
    *,
    digest: str | None = None,
    approvals: list[int] | None = None,
) -> dict[str, Any]:
    return {
        "from": "explore",
        "to": "poc",
        "verdict": verdict,
        "criteriaDigest": digest or lock_of(world, "alpha", Stage.EXPLORE)["digest"],
        "checks": [
            {"check": "approval:sponsor", "kind": "approvals", "status": "pass", "reason": "ok"}
        ],
        "approvals": approvals or [],
    }


def approvals_signed(world: LedgerWorld, *, budget: bool = True) -> None:
    register(world.session, "alpha", now=world.at(0))
    approve(world.session, "alpha", world.sponsor, role="sponsor", now=world.at(1))
    if budget:
        approve(
            world.session,
            "alpha",
            world.budget_owner,
            role="budget_owner",
            now=world.at(2),
        )


def found(world: LedgerWorld) -> set[tuple[str, int | None, str]]:
    return {(v.usecase, v.sequence, v.rule) for v in verify_ledger(world.session.ledger).violations}


def the(world: LedgerWorld, rule: str) -> Violation:
    return next(v for v in verify_ledger(world.session.ledger).violations if v.rule == rule)


def test_entry_signed_by_an_untrusted_key_is_detected(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    seq = forge(
        world,
        "alpha",
        world.outsider,
        kind="decision",
        after=Stage.STOPPED,
        days=1,
        records={"decision": {"decision": "no-go", "reason": "forged", "to": "stopped"}},
    )
    assert found(world) == {("alpha", seq, "signer-untrusted")}
    assert "alpha#1: [signer-untrusted]" in str(the(world, "signer-untrusted"))


def test_approval_by_a_key_without_the_role_is_detected(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    seq = forge(
        world,
        "alpha",
        world.sponsor,
        kind="approval",
        after=Stage.EXPLORE,
        days=1,
        records={
            "approval": {
                "role": "budget_owner",
                "approver": "Dana Park",
                "from": "explore",
                "to": "poc",
                "criteriaDigest": lock_of(world, "alpha", Stage.EXPLORE)["digest"],
            }
        },
    )
    assert found(world) == {("alpha", seq, "signer-role")}
    assert "'budget_owner'" in the(world, "signer-role").message


def test_promotion_past_a_failed_gate_is_detected(world: LedgerWorld) -> None:
    approvals_signed(world)
    seq = forge(
        world,
        "alpha",
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=3,
        records={
            "gate": gate_record(world, "blocked", approvals=[1, 2]),
            "lock": lock_of(world, "alpha", Stage.POC),
        },
    )
    assert found(world) == {("alpha", seq, "stage-illegal"), ("alpha", seq, "criteria-lock")}
    assert "blocked gate cannot move the stage" in the(world, "stage-illegal").message
    assert "only the gate's registration, passing gate" in the(world, "criteria-lock").message


def test_criteria_changed_without_an_amendment_is_detected(world: LedgerWorld) -> None:
    approvals_signed(world)
    seq = forge(
        world,
        "alpha",
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=3,
        records={
            "gate": gate_record(world, "pass", digest="sha256:" + "ab" * 32, approvals=[1, 2]),
            "lock": lock_of(world, "alpha", Stage.POC),
        },
    )
    assert found(world) == {("alpha", seq, "criteria-lock")}
    assert "amendment" in the(world, "criteria-lock").message


def test_pass_without_the_approvals_the_locked_criteria_require_is_detected(
    world: LedgerWorld,
) -> None:
    approvals_signed(world, budget=False)
    seq = forge(
        world,
        "alpha",
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=3,
        records={
            "gate": gate_record(world, "pass", approvals=[1]),
            "lock": lock_of(world, "alpha", Stage.POC),
        },
    )
    assert found(world) == {("alpha", seq, "approvals-missing")}
    message = the(world, "approvals-missing").message
    assert "1 distinct 'budget_owner'" in message and "found 0" in message


def test_pass_with_every_required_approval_is_clean(world: LedgerWorld) -> None:
    approvals_signed(world)
    forge(
        world,
        "alpha",
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=3,
        records={
            "gate": gate_record(world, "pass", approvals=[1, 2]),
            "lock": lock_of(world, "alpha", Stage.POC),
        },
    )
    assert found(world) == set()


def test_two_approvals_by_the_same_key_count_once(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    for day in (1, 2):
        approve(
            world.session,
            "alpha",
            world.sponsor,
            role="sponsor",
            now=world.at(day),
        )
    seq = forge(
        world,
        "alpha",
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=3,
        records={
            "gate": gate_record(world, "pass", approvals=[1, 2]),
            "lock": lock_of(world, "alpha", Stage.POC),
        },
    )
    assert found(world) == {("alpha", seq, "approvals-missing")}


def test_gate_citing_an_entry_that_is_no_approval_of_the_stage_is_detected(
    world: LedgerWorld,
) -> None:
    approvals_signed(world)
    seq = forge(
        world,
        "alpha",
        world.session.signer,
        kind="gate",
        after=Stage.POC,
        days=3,
        records={
            "gate": gate_record(world, "pass", approvals=[0, 1, 2]),
            "lock": lock_of(world, "alpha", Stage.POC),
        },
    )
    assert found(world) == {("alpha", seq, "approvals-cited")}
    assert "#0" in the(world, "approvals-cited").message


def test_locked_criteria_that_do_not_match_their_digest_are_detected(world: LedgerWorld) -> None:
    lock = lock_of(world, "alpha", Stage.EXPLORE)
    lock["criteria"] = {**lock["criteria"], "approvals": {}}  # drop the sign-offs, keep the digest
    forge(
        world,
        "alpha",
        world.session.signer,
        kind="registration",
        after=Stage.EXPLORE,
        days=0,
        records={"lock": lock},
    )
    assert found(world) == {("alpha", 0, "criteria-lock")}
    assert "do not match their digest" in the(world, "criteria-lock").message


def _same_meaning(a: bytes, b: bytes) -> bool:
    """A flip inside JSON whitespace-free envelope text can still decode to the same value
    (e.g. base64 padding bits); only then may verification legitimately stay clean."""
    try:
        da, db = json.loads(a), json.loads(b)
        return (
            base64.b64decode(da["payload"]) == base64.b64decode(db["payload"])
            and [base64.b64decode(s["sig"]) for s in da["signatures"]]
            == [base64.b64decode(s["sig"]) for s in db["signatures"]]
            and da["payloadType"] == db["payloadType"]
            and [s["keyid"] for s in da["signatures"]] == [s["keyid"] for s in db["signatures"]]
        )
    except Exception:
        return False
