"""Export bundles verify offline, with no store, and cannot vouch for their own keys;
the in-memory store they are verified from keeps the times of the objects it copies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gates.clock import Clock
from gates.errors import ConfigError, EntryExistsError
from gates.ledger.bundle import (
    Bundle,
    BundleKey,
    bundle_trust,
    export_bundle,
    load_bundle,
    trust_notes,
    verify_bundle,
    write_bundle,
)
from gates.ledger.entry import entry_key
from gates.signing.signers import load_signer
from gates.signing.trust import TrustStore
from gates.store.memory import MemoryStore
from gates.workspace.auditor import trust_from_settings
from tests.support.forge import forge_entry
from tests.support.world import World

SIMULATED = Clock(simulated=True)


def history(world: World, *, checkpoint: bool = True) -> None:
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    world.approve("alpha", "budget_owner", 2)
    world.register("beta", 0)
    if checkpoint:
        world.checkpoint(3)


def exported(world: World, tmp_path: Path) -> Path:
    bundle, report = export_bundle(world.session.ledger, "alpha", now=world.at(4))
    assert report.intact, [str(v) for v in report.violations]
    path = tmp_path / "alpha.bundle.json"
    write_bundle(bundle, path)
    return path


def rules(bundle: Bundle, trust: TrustStore) -> set[tuple[str, int | None, str]]:
    # The test workspace declares a simulated clock; an auditor of it does too.
    found = verify_bundle(bundle, trust, clock=SIMULATED).violations
    return {(v.usecase, v.sequence, v.rule) for v in found}


def edit(path: Path, change: object) -> Bundle:
    doc = json.loads(path.read_bytes())
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))
    return load_bundle(path)


def test_bundle_carries_exact_bytes_keys_checkpoint_and_report(
    world: World, tmp_path: Path
) -> None:
    history(world)
    bundle = load_bundle(exported(world, tmp_path))
    stored = [world.session.store.get(entry_key("alpha", s)) for s in range(3)]
    assert [base64.b64decode(e.envelope) for e in bundle.entries] == stored
    assert {k.name: k.roles for k in bundle.keys} == {
        "gate": ["gate"],
        "dana": ["sponsor"],
        "lee": ["budget_owner"],
    }
    assert bundle.checkpoint is not None and bundle.checkpoint.tree_size == 2
    assert bundle.checkpoint.leaf_index == 0 and len(bundle.checkpoint.inclusion) == 1
    assert bundle.report["intact"] is True and bundle.report["entries"] == 3


def test_bundle_verifies_offline_after_the_store_is_gone(world: World, tmp_path: Path) -> None:
    history(world)
    path = exported(world, tmp_path)
    trust = world.session.trust
    for key in world.session.store.list_keys(""):
        (world.root / "ledger" / key).unlink()
    report = verify_bundle(load_bundle(path), trust, clock=world.session.clock)
    assert report.intact, [str(v) for v in report.violations]
    assert report.entries == 3 and report.checkpoints == 1
    assert report.latest_checkpoint is not None and report.latest_checkpoint.sequence == 0


def test_bundle_from_seaweedfs_verifies_offline(world: World, s3_bucket: str) -> None:
    world.use_store(f"s3://{s3_bucket}/l")
    history(world)
    bundle, report = export_bundle(world.session.ledger, "alpha")
    assert report.intact and bundle.checkpoint is not None
    again = Bundle.model_validate_json(bundle.model_dump_json(by_alias=True))
    assert verify_bundle(again, world.session.trust, clock=world.session.clock).intact


def test_bundle_without_a_checkpoint_says_truncation_cannot_be_ruled_out(
    world: World, tmp_path: Path
) -> None:
    history(world, checkpoint=False)
    bundle = load_bundle(exported(world, tmp_path))
    report = verify_bundle(bundle, world.session.trust, clock=world.session.clock)
    assert report.intact and bundle.checkpoint is None
    assert any("carries no checkpoint" in note for note in report.notes)


def test_a_flipped_byte_in_a_bundled_entry_is_detected(world: World, tmp_path: Path) -> None:
    history(world)
    path = exported(world, tmp_path)

    def flip(doc: dict) -> None:  # type: ignore[type-arg]
        raw = bytearray(base64.b64decode(doc["entries"][1]["envelope"]))
        at = raw.index(b'"payload":"') + 30
        raw[at] = ord("A") if raw[at] != ord("A") else ord("B")
        doc["entries"][1]["envelope"] = base64.b64encode(bytes(raw)).decode()

    assert ("alpha", 1, "signature-invalid") in rules(edit(path, flip), world.session.trust)


def test_newest_entries_dropped_from_a_bundle_are_caught_by_its_checkpoint(
    world: World, tmp_path: Path
) -> None:
    history(world)
    bundle = edit(exported(world, tmp_path), lambda doc: doc["entries"].pop())
    assert rules(bundle, world.session.trust) == {("alpha", 2, "checkpoint-truncated")}


def test_a_wrong_inclusion_proof_in_a_bundle_is_detected(world: World, tmp_path: Path) -> None:
    history(world)

    def corrupt(doc: dict) -> None:  # type: ignore[type-arg]
        doc["checkpoint"]["inclusion"] = ["ab" * 32]

    bundle = edit(exported(world, tmp_path), corrupt)
    assert rules(bundle, world.session.trust) == {("alpha", 2, "checkpoint-inclusion")}


def test_an_entry_of_another_chain_slipped_into_a_bundle_is_detected(
    world: World, tmp_path: Path
) -> None:
    history(world)
    beta = base64.b64encode(world.session.store.get(entry_key("beta", 0))).decode()

    def slip(doc: dict) -> None:  # type: ignore[type-arg]
        doc["entries"].append({"key": entry_key("beta", 0), "envelope": beta})
        doc["entries"].append({"key": entry_key("alpha", 3), "envelope": beta})

    assert rules(edit(exported(world, tmp_path), slip), world.session.trust) == {
        ("alpha", None, "bundle-foreign-entry"),
        ("alpha", 3, "subject-mismatch"),
        ("alpha", 3, "sequence-mismatch"),
        ("alpha", 3, "link-broken"),
        ("alpha", 3, "time-backwards"),
        ("alpha", 3, "stage-illegal"),
    }


def test_a_bundle_cannot_vouch_for_a_key_it_added_itself(world: World, tmp_path: Path) -> None:
    """A forger adds their own key with the gate role to the bundle and signs with it."""
    history(world, checkpoint=False)
    stage = world.session.ledger.state("alpha").stage
    assert stage is not None
    forge_entry(
        world.session,
        "alpha",
        world.outsider,
        kind="recheck",
        after=stage,
        time=world.at(5),
        records={
            "recheck": {
                "stage": stage.value,
                "verdict": "ok",
                "policyDigest": "sha256:" + "0" * 64,
                "checks": [],
            }
        },
    )
    bundle, _ = export_bundle(world.session.ledger, "alpha")
    signer = load_signer("file:keys/outsider.pem", world.root)
    pem = (world.root / "keys" / "outsider.pub").read_text()
    forged_key = BundleKey(name="gate-2", keyid=signer.keyid, roles=["gate"], pem=pem)
    forged = bundle.model_copy(update={"keys": [*bundle.keys, forged_key]})
    # With the auditor's own keys the forgery shows; the bundle's extra key is pointed out.
    assert rules(forged, world.session.trust) == {("alpha", 3, "signer-untrusted")}
    assert any("'gate-2'" in note and "not among the trusted keys" in note
               for note in trust_notes(forged, world.session.trust))  # fmt: skip
    # Only if the auditor explicitly trusts the bundle's keys does it pass.
    assert verify_bundle(forged, bundle_trust(forged), clock=SIMULATED).intact


def test_a_bundle_key_whose_id_does_not_match_its_pem_is_refused(
    world: World, tmp_path: Path
) -> None:
    history(world)

    def swap(doc: dict) -> None:  # type: ignore[type-arg]
        doc["keys"][0]["keyid"] = "0" * 64

    with pytest.raises(ConfigError, match="does not match its PEM"):
        bundle_trust(edit(exported(world, tmp_path), swap))


def test_a_malformed_bundle_is_an_error_naming_file_and_field(world: World, tmp_path: Path) -> None:
    history(world)
    path = exported(world, tmp_path)
    with pytest.raises(ConfigError, match=r"alpha\.bundle\.json.*signedBy.*Extra inputs"):
        edit(path, lambda doc: doc.update(signedBy="me"))
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="invalid JSON"):
        load_bundle(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_bundle(tmp_path / "missing.json")


def test_trust_comes_from_a_settings_file_or_its_folder(world: World) -> None:
    by_file = trust_from_settings(world.root / "stagegate.toml")
    by_folder = trust_from_settings(world.root)
    assert set(by_file.by_keyid) == set(by_folder.by_keyid) == set(world.session.trust.by_keyid)
    empty = world.root / "empty.toml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="trusted_keys: none listed"):
        trust_from_settings(empty)


# --- MemoryStore: what only it does (the contract is tests/store/test_store_contract.py) ----


def test_memory_store_copies_keep_the_time_their_store_received_them() -> None:
    store = MemoryStore()
    received = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
    store.put_new("a/x1", b"one")
    store.put_copy("a/x2", b"two", received)
    assert store.list_objects("a/")[1][:2] == ("a/x2", received)
    with pytest.raises(EntryExistsError):
        store.put_copy("a/x1", b"intruder", received)
    assert store.get("a/x1") == b"one"
