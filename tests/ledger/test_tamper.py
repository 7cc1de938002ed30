"""Tampering with stored entries and checkpoints is detected; each violation names the
entry and the rule.

One table: each case builds a short history, tampers with it the way an attacker (or a
careless hand) could, and lists every violation verification must report, in the
report's order, as (use case, sequence, rule), with words their messages must say.
Forged entries and checkpoints are signed like the product signs them, then stored past
the writer's own checks (``tests.support.forge``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates.errors import LedgerError
from gates.ledger.checkpoint import CHECKPOINTS, Checkpoint, checkpoint_key, open_checkpoint
from gates.ledger.entry import entry_key
from gates.ledger.verify import verify_ledger
from gates.signing.signers import Signer
from gates.stages import Stage
from tests.support.forge import (
    delete_object,
    entry_path,
    forge_checkpoint,
    forge_entry,
    gate_record,
)
from tests.support.world import World, other_notes

Found = tuple[str, int | None, str]

# --- Histories the cases start from ---------------------------------------------------


def chained(world: World) -> None:
    """alpha: registration, two approvals, a No-Go (0-3); beta: registration."""
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    world.approve("alpha", "budget_owner", 2)
    world.decide("alpha", "no-go", 3, reason="priorities changed")
    world.register("beta", 0)


def approvals_signed(world: World, *, budget: bool = True) -> None:
    """alpha registered, then the sponsor's (and the budget owner's) approval: 0-1(-2)."""
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    if budget:
        world.approve("alpha", "budget_owner", 2)


def checkpointed(world: World) -> Checkpoint:
    """alpha: 3 entries, beta: 1 entry, then checkpoint 0 over both."""
    approvals_signed(world)
    world.register("beta", 0)
    return world.checkpoint(3)


# --- Byte edits of stored entries --------------------------------------------------------


def edit_stored(world: World, usecase: str, seq: int, edit: Callable[[dict[str, Any]], None]) -> None:  # fmt: skip
    path = entry_path(world.root, usecase, seq)
    doc = json.loads(path.read_bytes())
    edit(doc)
    path.write_text(json.dumps(doc))


def flip_payload_byte(world: World) -> None:
    chained(world)

    def flip(doc: dict[str, Any]) -> None:
        payload = bytearray(base64.b64decode(doc["payload"]))
        payload[40] ^= 0x01
        doc["payload"] = base64.b64encode(bytes(payload)).decode()

    edit_stored(world, "alpha", 1, flip)


def flip_signature_byte(world: World) -> None:
    chained(world)

    def flip(doc: dict[str, Any]) -> None:
        sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
        sig[0] ^= 0x80
        doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()

    edit_stored(world, "alpha", 2, flip)


def truncate_envelope(world: World) -> None:
    chained(world)
    path = entry_path(world.root, "alpha", 2)
    path.write_bytes(path.read_bytes()[:50])


def delete_middle_entry(world: World) -> None:
    chained(world)
    entry_path(world.root, "alpha", 1).unlink()


def swap_entries(world: World) -> None:
    chained(world)
    a, b = entry_path(world.root, "alpha", 1), entry_path(world.root, "alpha", 2)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)


def copy_entry_into_another_chain(world: World) -> None:
    chained(world)
    entry_path(world.root, "beta", 1).write_bytes(entry_path(world.root, "alpha", 1).read_bytes())


# --- Forged entries ----------------------------------------------------------------------


def forge(world: World, signer: Signer, *, kind: str, after: Stage, days: float, records: dict[str, Any]) -> None:  # fmt: skip
    forge_entry(world.session, "alpha", signer, kind=kind, after=after, time=world.at(days),
                records=records)  # fmt: skip


def forge_gate(world: World, gate: dict[str, Any]) -> None:
    """A gate into PoC on day 3, signed by the gate key, locking PoC's criteria."""
    forge(world, world.session.signer, kind="gate", after=Stage.POC, days=3,
          records={"gate": gate, "lock": world.lock("alpha", Stage.POC)})  # fmt: skip


def no_go_by_an_untrusted_key(world: World) -> None:
    world.register("alpha", 0)
    forge(world, world.outsider, kind="decision", after=Stage.STOPPED, days=1,
          records={"decision": {"decision": "no-go", "reason": "forged", "to": "stopped"}})  # fmt: skip


def approval_by_a_key_without_the_role(world: World) -> None:
    world.register("alpha", 0)
    approval = {
        "role": "budget_owner",
        "approver": "Dana Park",
        "from": "explore",
        "to": "poc",
        "criteriaDigest": world.lock("alpha", Stage.EXPLORE)["digest"],
    }
    forge(world, world.sponsor, kind="approval", after=Stage.EXPLORE, days=1,
          records={"approval": approval})  # fmt: skip


def promotion_past_a_blocked_gate(world: World) -> None:
    approvals_signed(world)
    forge_gate(world, gate_record(world, "blocked", approvals=[1, 2]))


def pass_under_criteria_changed_without_an_amendment(world: World) -> None:
    approvals_signed(world)
    forge_gate(world, gate_record(world, "pass", digest="sha256:" + "ab" * 32, approvals=[1, 2]))


def pass_without_the_budget_owners_approval(world: World) -> None:
    approvals_signed(world, budget=False)
    forge_gate(world, gate_record(world, "pass", approvals=[1]))


def pass_with_every_required_approval(world: World) -> None:
    approvals_signed(world)
    forge_gate(world, gate_record(world, "pass", approvals=[1, 2]))


def pass_with_two_approvals_by_the_same_key(world: World) -> None:
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    # The writer refuses a second approval by the same key; one written past it counts once.
    approval = {
        "role": "sponsor",
        "approver": "Dana Park",
        "from": "explore",
        "to": "poc",
        "criteriaDigest": world.lock("alpha", Stage.EXPLORE)["digest"],
    }
    forge(world, world.sponsor, kind="approval", after=Stage.EXPLORE, days=2,
          records={"approval": approval})  # fmt: skip
    forge_gate(world, gate_record(world, "pass", approvals=[1, 2]))


def pass_citing_the_registration_as_an_approval(world: World) -> None:
    approvals_signed(world)
    forge_gate(world, gate_record(world, "pass", approvals=[0, 1, 2]))


def registration_whose_locked_criteria_lost_their_sign_offs(world: World) -> None:
    lock = world.lock("alpha", Stage.EXPLORE)
    lock["criteria"] = {**lock["criteria"], "approvals": {}}  # drop the sign-offs, keep the digest
    forge(world, world.session.signer, kind="registration", after=Stage.EXPLORE, days=0,
          records={"lock": lock})  # fmt: skip


# --- Entries deleted or rewritten after a checkpoint ---------------------------------------


def delete_the_newest_entry(world: World) -> None:
    checkpointed(world)
    delete_object(world.session, entry_key("alpha", 2))


def roll_back_and_regrow_a_chain(world: World) -> None:
    checkpointed(world)
    delete_object(world.session, entry_key("alpha", 2))
    delete_object(world.session, entry_key("alpha", 1))
    world.approve("alpha", "sponsor", 4)
    world.approve("alpha", "budget_owner", 5)
    # The rewritten history verifies on its own: only the checkpoint shows it changed.
    assert world.session.ledger.replay("alpha").intact


def delete_a_chain(world: World) -> None:
    checkpointed(world)
    delete_object(world.session, entry_key("beta", 0))


def delete_the_entry_a_checkpoint_recorded_as_head(world: World) -> None:
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    world.checkpoint(2)
    world.approve("alpha", "budget_owner", 3)
    delete_object(world.session, entry_key("alpha", 1))


def delete_the_newest_entry_and_every_checkpoint(world: World) -> Checkpoint:
    """The attacker removes the newest entry and every checkpoint that recorded it."""
    checkpoint = checkpointed(world)
    delete_object(world.session, entry_key("alpha", 2))
    delete_object(world.session, checkpoint_key(0))
    return checkpoint


def delete_them_while_the_auditor_kept_the_last_checkpoint(world: World) -> dict[str, Any]:
    """As above, but the auditor kept a copy of the deleted checkpoint: verify against it."""
    kept = delete_the_newest_entry_and_every_checkpoint(world)
    pinned, problems = open_checkpoint("kept.json", kept.raw, world.session.trust, None)
    assert pinned is not None and not problems
    return {"pinned": [pinned]}


# --- The checkpoint chain itself -----------------------------------------------------------


def heads_of(checkpoint: Checkpoint) -> list[dict[str, Any]]:
    return [h.model_dump(by_alias=True) for h in checkpoint.heads]


def forge_next_checkpoint(
    world: World, signer: Signer, first: Checkpoint, *, heads: list[dict[str, Any]] | None = None,
    root: str | None = None,
) -> None:  # fmt: skip
    """Checkpoint 1 on day 4, after ``first``, over ``heads`` (``first``'s by default)."""
    forge_checkpoint(world.session, signer, sequence=1, previous=first.digest, time=world.at(4),
                     heads=heads or heads_of(first), root=root)  # fmt: skip


def delete_the_middle_checkpoint(world: World) -> None:
    checkpointed(world)
    world.checkpoint(4)
    world.checkpoint(5)
    delete_object(world.session, checkpoint_key(1))


def flip_a_checkpoint_signature_byte(world: World) -> None:
    checkpointed(world)
    path = world.root / "ledger" / checkpoint_key(0)
    doc = json.loads(path.read_bytes())
    sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
    sig[7] ^= 0x01
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    path.write_text(json.dumps(doc))


def checkpoint_signed_by_an_approver_key(world: World) -> None:
    forge_next_checkpoint(world, world.sponsor, checkpointed(world))


def checkpoint_signed_by_an_untrusted_key(world: World) -> None:
    forge_next_checkpoint(world, world.outsider, checkpointed(world))


def checkpoint_whose_root_is_not_its_heads_tree(world: World) -> None:
    first = checkpointed(world)
    forge_next_checkpoint(world, world.session.signer, first, root="sha256:" + "0" * 64)


def checkpoint_that_shrinks_a_chain(world: World) -> None:
    first = checkpointed(world)
    shrunk = {"useCase": "alpha", "size": 2, "head": world.session.ledger.read_entry("alpha", 1).digest}  # fmt: skip
    heads = [shrunk if h["useCase"] == "alpha" else h for h in heads_of(first)]
    forge_next_checkpoint(world, world.session.signer, first, heads=heads)


def checkpoints_back_in_time_and_off_their_chain(world: World) -> None:
    first = checkpointed(world)
    signer, heads = world.session.signer, heads_of(first)
    forge_checkpoint(world.session, signer, sequence=1, previous=first.digest, time=world.at(1),
                     heads=heads)  # fmt: skip
    forge_checkpoint(world.session, signer, sequence=2, previous="sha256:" + "1" * 64,
                     time=world.at(6), heads=heads)  # fmt: skip


def stray_object_among_checkpoints(world: World) -> None:
    checkpointed(world)
    world.session.store.put_new("checkpoints/latest.json", b"{}")


# --- The table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tampering:
    #: What was done; the test's id.
    name: str
    #: Builds a history and tampers with it; a dict it returns holds more arguments for
    #: ``verify_ledger``.
    tamper: Callable[[World], object]
    #: Every violation verification reports, in order (none: the ledger is intact).
    found: tuple[Found, ...]
    #: (rule, words the text of that rule's first violation must hold).
    says: tuple[tuple[str, str], ...] = ()
    #: (rule, how the text of that rule's first violation begins: its entry, then its rule).
    begins: tuple[tuple[str, str], ...] = ()
    #: Verify only these use cases (None: all of them).
    usecases: tuple[str, ...] | None = None
    #: Stores the ledger is tampered in: the workspace folder, a SeaweedFS bucket.
    stores: tuple[str, ...] = ("local",)


TAMPERING = [
    # Stored entries, edited in place.
    Tampering("flipped payload byte", flip_payload_byte,
              (("alpha", 1, "signature-invalid"), ("alpha", 2, "link-broken"))),
    Tampering("flipped signature byte", flip_signature_byte,
              (("alpha", 2, "signature-invalid"), ("alpha", 3, "link-broken"))),
    Tampering("truncated envelope", truncate_envelope,
              (("alpha", 2, "envelope-malformed"), ("alpha", 3, "link-broken"))),
    Tampering("deleted middle entry is a gap", delete_middle_entry,
              (("alpha", 2, "sequence-gap"), ("alpha", 2, "link-broken")),
              says=(("sequence-gap", "expected entry 1"),)),
    Tampering("swapped entries", swap_entries,
              (("alpha", 1, "sequence-mismatch"), ("alpha", 1, "link-broken"),
               ("alpha", 2, "sequence-mismatch"), ("alpha", 2, "link-broken"),
               ("alpha", 2, "time-backwards"), ("alpha", 3, "link-broken"))),
    Tampering("entry copied into another chain", copy_entry_into_another_chain,
              (("beta", 1, "subject-mismatch"), ("beta", 1, "link-broken"))),
    # Entries signed and stored past the writer's checks.
    Tampering("entry signed by an untrusted key", no_go_by_an_untrusted_key,
              (("alpha", 1, "signer-untrusted"),),
              begins=(("signer-untrusted", "alpha#1: [signer-untrusted]"),)),
    Tampering("approval by a key without the role", approval_by_a_key_without_the_role,
              (("alpha", 1, "signer-role"),), says=(("signer-role", "'budget_owner'"),)),
    Tampering("promotion past a blocked gate", promotion_past_a_blocked_gate,
              (("alpha", 3, "stage-illegal"), ("alpha", 3, "criteria-lock")),
              says=(("stage-illegal", "blocked gate cannot move the stage"),
                    ("criteria-lock", "only the gate's registration, passing gate"))),
    Tampering("criteria changed without an amendment",
              pass_under_criteria_changed_without_an_amendment,
              (("alpha", 3, "criteria-lock"),), says=(("criteria-lock", "amendment"),)),
    Tampering("pass without the approvals the locked criteria require",
              pass_without_the_budget_owners_approval,
              (("alpha", 2, "approvals-missing"),),
              says=(("approvals-missing", "1 distinct 'budget_owner'"),
                    ("approvals-missing", "found 0"))),
    Tampering("pass with every required approval is clean", pass_with_every_required_approval, ()),
    Tampering("two approvals by the same key count once", pass_with_two_approvals_by_the_same_key,
              (("alpha", 3, "approvals-missing"),)),
    Tampering("gate citing an entry that is no approval of the stage",
              pass_citing_the_registration_as_an_approval,
              (("alpha", 3, "approvals-cited"),), says=(("approvals-cited", "#0"),)),
    Tampering("locked criteria that do not match their digest",
              registration_whose_locked_criteria_lost_their_sign_offs,
              (("alpha", 0, "criteria-lock"),),
              says=(("criteria-lock", "do not match their digest"),)),
    # Entries deleted or rewritten after a checkpoint recorded them.
    Tampering("newest entry deleted after a checkpoint", delete_the_newest_entry,
              (("alpha", 2, "checkpoint-truncated"),),
              says=(("checkpoint-truncated", "now ends at entry 1"),),
              begins=(("checkpoint-truncated",
                       "alpha#2: [checkpoint-truncated] checkpoint 0 recorded 3 entries"),),
              stores=("local", "s3")),
    Tampering("chain rolled back and regrown after a checkpoint", roll_back_and_regrow_a_chain,
              (("alpha", 2, "checkpoint-head-mismatch"),),
              says=(("checkpoint-head-mismatch", "history was rewritten"),),
              stores=("local", "s3")),
    Tampering("chain deleted after a checkpoint", delete_a_chain,
              (("beta", None, "checkpoint-chain-missing"),)),
    Tampering("chain deleted after a checkpoint, checked alone", delete_a_chain,
              (("beta", None, "chain-missing"), ("beta", None, "checkpoint-chain-missing")),
              usecases=("beta",)),
    Tampering("deleted entry a checkpoint recorded as head is named",
              delete_the_entry_a_checkpoint_recorded_as_head,
              (("alpha", 2, "sequence-gap"), ("alpha", 2, "link-broken"),
               ("alpha", 1, "checkpoint-head-mismatch")),
              says=(("checkpoint-head-mismatch", "recorded by checkpoint 0 as the head"),)),
    Tampering("one use case checked uses only its checkpoint heads (intact)",
              delete_the_newest_entry, (), usecases=("beta",)),
    Tampering("one use case checked uses only its checkpoint heads (truncated)",
              delete_the_newest_entry, (("alpha", 2, "checkpoint-truncated"),),
              usecases=("alpha",)),
    Tampering("newest entry and every checkpoint deleted: nothing left to compare with",
              delete_the_newest_entry_and_every_checkpoint, ()),
    Tampering("newest entry and every checkpoint deleted: a pinned checkpoint catches it",
              delete_them_while_the_auditor_kept_the_last_checkpoint,
              ((CHECKPOINTS, 0, "checkpoint-missing"), ("alpha", 2, "checkpoint-truncated"))),
    # The checkpoint chain itself.
    Tampering("deleted middle checkpoint is a gap", delete_the_middle_checkpoint,
              ((CHECKPOINTS, 2, "checkpoint-sequence"),),
              says=(("checkpoint-sequence", "checkpoints 1..1 are missing"),)),
    Tampering("flipped byte in a checkpoint signature", flip_a_checkpoint_signature_byte,
              ((CHECKPOINTS, 0, "checkpoint-signature"),),
              begins=(("checkpoint-signature", "@checkpoints#0: [checkpoint-signature]"),)),
    Tampering("checkpoint signed by an approver key", checkpoint_signed_by_an_approver_key,
              ((CHECKPOINTS, 1, "checkpoint-signer"),), says=(("checkpoint-signer", "'gate'"),)),
    Tampering("checkpoint signed by an untrusted key", checkpoint_signed_by_an_untrusted_key,
              ((CHECKPOINTS, 1, "checkpoint-signature"),)),
    Tampering("checkpoint whose root is not its heads' tree",
              checkpoint_whose_root_is_not_its_heads_tree, ((CHECKPOINTS, 1, "checkpoint-root"),)),
    Tampering("checkpoint that shrinks a chain", checkpoint_that_shrinks_a_chain,
              (("alpha", 1, "checkpoint-inconsistent"),),
              says=(("checkpoint-inconsistent", "rolled back between them"),)),
    Tampering("checkpoints going back in time and off their chain",
              checkpoints_back_in_time_and_off_their_chain,
              ((CHECKPOINTS, 1, "checkpoint-time"), (CHECKPOINTS, 2, "checkpoint-link"))),
    Tampering("stray object among checkpoints", stray_object_among_checkpoints,
              ((CHECKPOINTS, None, "stray-object"),)),
]  # fmt: skip


CASES = [
    pytest.param(case, store, id=f"{case.name} [{store}]")
    for case in TAMPERING
    for store in case.stores
]


@pytest.mark.parametrize(("case", "store"), CASES)
def test_tampering_is_detected_naming_each_entry_and_rule(
    case: Tampering, store: str, world: World, request: pytest.FixtureRequest
) -> None:
    if store == "s3":
        world.use_store(f"s3://{request.getfixturevalue('s3_bucket')}/ledger")
    done = case.tamper(world)
    arguments = done if isinstance(done, dict) else {}
    report = verify_ledger(world.session.ledger, case.usecases, **arguments)
    assert [(v.usecase, v.sequence, v.rule) for v in report.violations] == list(case.found)
    assert report.intact == (not case.found)
    first = {}
    for violation in reversed(report.violations):
        first[violation.rule] = str(violation)
    for rule, words in case.says:
        assert words in first[rule], (rule, first[rule])
    for rule, beginning in case.begins:
        assert first[rule].startswith(beginning), (rule, first[rule])


@pytest.fixture
def chained_world(world: World) -> World:
    chained(world)
    return world


def test_intact_ledger_verifies_clean(chained_world: World) -> None:
    report = verify_ledger(chained_world.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.entries == 6  # the No-Go is an approval by the sponsor and the decision


def test_intact_ledger_with_checkpoints_verifies_clean(anywhere: World) -> None:
    checkpointed(anywhere)
    anywhere.decide("alpha", "no-go", 4, reason="priorities changed")
    anywhere.checkpoint(5)
    report = verify_ledger(anywhere.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.checkpoints == 2 and not other_notes(report)


def test_stage_derivation_refuses_a_tampered_chain(world: World) -> None:
    delete_middle_entry(world)
    with pytest.raises(LedgerError, match=r"alpha#2.*sequence-gap"):
        world.session.ledger.state("alpha")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, 3), position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_single_bit_flip_in_any_entry_is_detected(
    chained_world: World, seq: int, position: int, bit: int
) -> None:
    world = chained_world
    path = entry_path(world.root, "alpha", seq)
    original = path.read_bytes()
    data = bytearray(original)
    data[position % len(data)] ^= 1 << bit
    path.write_bytes(bytes(data))
    try:
        report = verify_ledger(world.session.ledger)
        if bytes(data) != original:
            decoded_same = _same_meaning(original, bytes(data))
            assert decoded_same or not report.intact
    finally:
        path.write_bytes(original)


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
