"""Checkpoints: the RFC 6962 tree, writing and reading signed checkpoints, entry proofs."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gates.engine.checkpoints import write_checkpoint
from gates.errors import LedgerError
from gates.ledger.checkpoint import CHECKPOINT_PREDICATE_TYPE, ChainHead, read_checkpoints
from gates.ledger.merkle import merkle_path, merkle_root, root_from_path
from gates.ledger.proof import (
    EntryProof,
    inclusion_proof,
    prove_entry,
    verify_entry_proof,
    verify_inclusion,
)
from gates.ledger.verify import verify_ledger
from gates.signing.dsse import parse_envelope
from tests.support.world import World, other_notes

# The certificate-transparency reference vectors for RFC 6962 (leaves, roots by size,
# and two audit paths in the tree of all eight leaves).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = {
    0: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    5: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


def test_merkle_roots_match_the_rfc6962_reference_vectors() -> None:
    for size, expected in enumerate(CT_ROOTS):
        assert merkle_root(CT_LEAVES[:size]).hex() == expected, size


def test_audit_paths_match_the_reference_vectors() -> None:
    for index, expected in CT_PATHS.items():
        assert [h.hex() for h in merkle_path(CT_LEAVES, index)] == expected


leaves_st = st.lists(st.binary(max_size=40), min_size=1, max_size=70)


@given(leaves=leaves_st, data=st.data())
def test_every_leaf_of_a_random_tree_has_an_inclusion_proof_that_verifies(
    leaves: list[bytes], data: st.DataObject
) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    assert root_from_path(leaves[index], index, len(leaves), merkle_path(leaves, index)) == root


@given(leaves=leaves_st, data=st.data())
def test_inclusion_proofs_fail_for_a_wrong_leaf_position_or_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    path = merkle_path(leaves, index)
    other = data.draw(st.binary(max_size=40).filter(lambda b: b != leaves[index]))
    assert root_from_path(other, index, len(leaves), path) != root
    if path:
        node = data.draw(st.integers(0, len(path) - 1))
        flipped = [bytes([p[0] ^ 1]) + p[1:] if i == node else p for i, p in enumerate(path)]
        assert root_from_path(leaves[index], index, len(leaves), flipped) != root
    assert root_from_path(leaves[index], index, len(leaves), [*path, root]) is None
    if len(leaves) > 1:
        moved = data.draw(st.integers(0, len(leaves) - 1).filter(lambda i: i != index))
        assert (
            leaves[moved] == leaves[index]
            or root_from_path(leaves[index], moved, len(leaves), path) != root
        )
    head = ChainHead(use_case="uc", size=1, head="sha256:" + "0" * 64)
    bogus_root = "sha256:" + bytes(32).hex()
    assert not verify_inclusion(head, 0, 1, [], bogus_root)


def _history(world: World) -> None:
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    world.approve("alpha", "budget_owner", 2)
    world.register("beta", 0)


def test_a_checkpoint_signs_every_chain_head_in_use_case_order(world: World) -> None:
    _history(world)
    checkpoint = world.checkpoint(3)
    report = verify_ledger(world.session.ledger)
    assert [(h.use_case, h.size, h.head) for h in checkpoint.heads] == [
        (c.usecase, c.entries, c.head) for c in report.chains
    ]
    stored = world.session.store.get("checkpoints/000000000000.dsse.json")
    assert stored == checkpoint.raw
    statement = json.loads(parse_envelope(stored, "cp").payload)
    assert statement["predicateType"] == CHECKPOINT_PREDICATE_TYPE
    assert statement["subject"] == [
        {
            "name": "stagegate:checkpoint",
            "digest": {"sha256": checkpoint.root.removeprefix("sha256:")},
        }
    ]
    assert statement["predicate"]["previous"] is None and statement["predicate"]["treeSize"] == 2
    assert report.intact and report.checkpoints == 1 and not other_notes(report)
    assert report.latest_checkpoint is not None and report.latest_checkpoint.sequence == 0


def test_checkpoints_form_a_chain_of_their_own(world: World) -> None:
    _history(world)
    first = world.checkpoint(3)
    world.decide("alpha", "no-go", 4, reason="priorities changed")
    second = world.checkpoint(5)
    assert second.sequence == 1 and second.predicate.previous == first.digest
    assert second.head("alpha") is not None and second.head("alpha").size == 5  # type: ignore[union-attr]
    reads = list(read_checkpoints(world.session.ledger))
    assert [(r.sequence, r.sound, r.violations) for r in reads] == [(0, True, ()), (1, True, ())]
    report = verify_ledger(world.session.ledger)
    assert report.intact and report.checkpoints == 2


def test_a_ledger_without_checkpoints_says_truncation_cannot_be_detected(
    world: World,
) -> None:
    _history(world)
    report = verify_ledger(world.session.ledger)
    assert report.intact and report.checkpoints == 0
    assert any("no signed checkpoint" in note for note in report.notes)
    assert report.to_json()["checkpoints"] == {"verified": 0, "latest": None}


def test_checkpointing_a_tampered_ledger_is_refused_and_writes_nothing(world: World) -> None:
    _history(world)
    (world.root / "ledger" / "chains" / "alpha" / "000000000001.dsse.json").unlink()
    with pytest.raises(LedgerError, match=r"refusing to checkpoint.*alpha#2: \[sequence-gap\]"):
        world.checkpoint(3)
    assert world.session.store.list_keys("checkpoints/") == []


def test_a_back_dated_checkpoint_is_refused(world: World) -> None:
    _history(world)
    world.checkpoint(5)
    with pytest.raises(LedgerError, match="back-dated checkpoint"):
        world.checkpoint(4)
    assert len(world.session.store.list_keys("checkpoints/")) == 1


def test_a_checkpoint_signed_by_an_approver_key_is_refused(world: World) -> None:
    _history(world)
    with pytest.raises(LedgerError, match="checkpoint-signer"):
        write_checkpoint(world.session.ledger, world.sponsor, world.at(3))
    assert world.session.store.list_keys("checkpoints/") == []


def test_an_entry_proof_verifies_offline_with_public_keys_only(world: World) -> None:
    _history(world)
    checkpoint = world.checkpoint(3)
    proof = prove_entry(world.session.ledger, "alpha", 0, checkpoint)
    assert len(proof.links) == 2 and proof.leaf_index == 0 and proof.tree_size == 2
    assert proof.inclusion == inclusion_proof(checkpoint, "alpha")
    # A round trip through JSON, as an auditor receives it, then verified without a store.
    received = EntryProof.model_validate_json(proof.model_dump_json(by_alias=True))
    result = verify_entry_proof(received, world.session.trust)
    assert result.verified and result.violations == ()
    assert result.entry is not None and result.entry.sequence == 0
    newest = prove_entry(world.session.ledger, "alpha", 2, checkpoint)
    assert newest.links == [] and verify_entry_proof(newest, world.session.trust).verified


def _rules(proof: EntryProof, world: World) -> set[str]:
    return {v.rule for v in verify_entry_proof(proof, world.session.trust).violations}


def test_a_tampered_entry_proof_fails_naming_what_broke(world: World) -> None:
    _history(world)
    checkpoint = world.checkpoint(3)
    proof = prove_entry(world.session.ledger, "alpha", 0, checkpoint)

    link = bytearray(base64.b64decode(proof.links[0]))
    link[30] ^= 1
    broken_link = proof.model_copy(
        update={"links": [base64.b64encode(link).decode(), proof.links[1]]}
    )
    assert _rules(broken_link, world) == {"proof-link"}

    assert _rules(proof.model_copy(update={"links": proof.links[:1]}), world) == {"proof-head"}

    wrong_path = proof.model_copy(update={"inclusion": ["00" * 32]})
    assert _rules(wrong_path, world) == {"proof-inclusion"}

    beta = prove_entry(world.session.ledger, "beta", 0, checkpoint)
    swapped = proof.model_copy(update={"entry": beta.entry})
    assert "subject-mismatch" in _rules(swapped, world)

    cp = json.loads(base64.b64decode(proof.checkpoint))
    sig = bytearray(base64.b64decode(cp["signatures"][0]["sig"]))
    sig[0] ^= 1
    cp["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    forged = proof.model_copy(
        update={"checkpoint": base64.b64encode(json.dumps(cp).encode()).decode()}
    )
    assert _rules(forged, world) == {"checkpoint-signature"}


def test_an_entry_newer_than_the_checkpoint_cannot_be_proven(world: World) -> None:
    _history(world)
    checkpoint = world.checkpoint(3)
    world.decide("alpha", "no-go", 4, reason="stop")
    with pytest.raises(LedgerError, match=r"alpha#3 is newer than checkpoint 0"):
        prove_entry(world.session.ledger, "alpha", 3, checkpoint)


def test_a_third_party_dsse_verifier_accepts_our_checkpoints(world: World) -> None:
    from securesystemslib.dsse import Envelope as SslibEnvelope
    from securesystemslib.signer import SSlibKey

    _history(world)
    checkpoint = world.checkpoint(3)
    gate_key = next(s for s in world.session.trust.by_keyid.values() if s.name == "gate")
    key = SSlibKey.from_crypto(gate_key.public.key, keyid=gate_key.public.keyid)
    envelope = SslibEnvelope.from_dict(json.loads(world.session.store.get(checkpoint.key)))
    assert set(envelope.verify([key], threshold=1)) == {gate_key.public.keyid}
    assert json.loads(envelope.payload)["predicate"]["root"] == checkpoint.root
