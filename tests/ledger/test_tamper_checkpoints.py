"""Tampering that only checkpoints can reveal: deleted newest entries, rolled-back chains,
and attacks on the checkpoint chain itself. Each violation names the entry and the rule.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gates.canonical import canonical_json
from gates.engine.actions import approve, decide, register
from gates.engine.checkpoints import write_checkpoint
from gates.ledger.checkpoint import (
    CHECKPOINT_PREDICATE_TYPE,
    CHECKPOINTS,
    ChainHead,
    Checkpoint,
    checkpoint_key,
    checkpoint_subject,
    open_checkpoint,
)
from gates.ledger.entry import entry_key
from gates.ledger.merkle import merkle_root
from gates.ledger.statement import STATEMENT_TYPE
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.signing.dsse import sign_envelope
from gates.signing.signers import Signer
from gates.store.s3 import S3Store

from .conftest import LedgerWorld, other_notes


@pytest.fixture(params=["local", "s3"])
def anywhere(request: pytest.FixtureRequest, world: LedgerWorld) -> LedgerWorld:
    """The test world with its ledger in the local folder or in a SeaweedFS bucket."""
    if request.param == "s3":
        request.getfixturevalue("seaweedfs")
        bucket = request.getfixturevalue("s3_bucket")
        settings = world.root / "stagegate.toml"
        settings.write_text(
            settings.read_text().replace('uri = "ledger"', f'uri = "s3://{bucket}/ledger"')
        )
        world.reopen()
    return world


def delete(world: LedgerWorld, key: str) -> None:
    store = world.session.store
    if isinstance(store, S3Store):
        from gates.store.s3 import default_client

        default_client().delete_object(Bucket=store.bucket, Key=f"{store.prefix}/{key}")
    else:
        (world.root / "ledger" / key).unlink()
    assert not store.exists(key)


def history(world: LedgerWorld) -> Checkpoint:
    """alpha: 3 entries, beta: 1 entry, then checkpoint 0 over both."""
    register(world.session, "alpha", now=world.at(0))
    approve(world.session, "alpha", world.sponsor, role="sponsor", now=world.at(1))
    approve(
        world.session,
        "alpha",
        world.budget_owner,
        role="budget_owner",
        now=world.at(2),
    )
    register(world.session, "beta", now=world.at(0))
    return write_checkpoint(world.session.ledger, world.session.signer, world.at(3))


def rules(report: VerificationReport) -> set[tuple[str, int | None, str]]:
    return {(v.usecase, v.sequence, v.rule) for v in report.violations}


def test_intact_ledger_with_checkpoints_verifies_clean(anywhere: LedgerWorld) -> None:
    history(anywhere)
    decide(anywhere.session, "alpha", "no-go", reason="priorities changed", now=anywhere.at(4),
           sponsor=anywhere.sponsor)  # fmt: skip
    write_checkpoint(anywhere.session.ledger, anywhere.session.signer, anywhere.at(5))
    report = verify_ledger(anywhere.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.checkpoints == 2 and not other_notes(report)


def test_deleted_newest_entries_after_a_checkpoint_are_detected(anywhere: LedgerWorld) -> None:
    history(anywhere)
    delete(anywhere, entry_key("alpha", 2))
    report = verify_ledger(anywhere.session.ledger)
    assert rules(report) == {("alpha", 2, "checkpoint-truncated")}
    message = str(report.violations[0])
    assert message.startswith("alpha#2: [checkpoint-truncated] checkpoint 0 recorded 3 entries")
    assert "now ends at entry 1" in message


def test_a_chain_rolled_back_and_regrown_after_a_checkpoint_is_detected(
    anywhere: LedgerWorld,
) -> None:
    history(anywhere)
    delete(anywhere, entry_key("alpha", 2))
    delete(anywhere, entry_key("alpha", 1))
    # The rewritten history verifies on its own: only the checkpoint shows it changed.
    approve(
        anywhere.session,
        "alpha",
        anywhere.sponsor,
        role="sponsor",
        now=anywhere.at(4),
    )
    approve(
        anywhere.session,
        "alpha",
        anywhere.budget_owner,
        role="budget_owner",
        now=anywhere.at(5),
    )
    assert anywhere.session.ledger.replay("alpha").intact
    report = verify_ledger(anywhere.session.ledger)
    assert rules(report) == {("alpha", 2, "checkpoint-head-mismatch")}
    assert "history was rewritten" in report.violations[0].message


def test_a_chain_deleted_after_a_checkpoint_is_detected(world: LedgerWorld) -> None:
    history(world)
    delete(world, entry_key("beta", 0))
    assert rules(verify_ledger(world.session.ledger)) == {
        ("beta", None, "checkpoint-chain-missing")
    }
    assert rules(verify_ledger(world.session.ledger, ["beta"])) == {
        ("beta", None, "chain-missing"),
        ("beta", None, "checkpoint-chain-missing"),
    }


def test_a_deleted_entry_that_a_checkpoint_recorded_as_head_is_named(world: LedgerWorld) -> None:
    register(world.session, "alpha", now=world.at(0))
    approve(world.session, "alpha", world.sponsor, role="sponsor", now=world.at(1))
    write_checkpoint(world.session.ledger, world.session.signer, world.at(2))
    approve(
        world.session,
        "alpha",
        world.budget_owner,
        role="budget_owner",
        now=world.at(3),
    )
    delete(world, entry_key("alpha", 1))
    report = verify_ledger(world.session.ledger)
    assert ("alpha", 1, "checkpoint-head-mismatch") in rules(report)
    assert ("alpha", 2, "sequence-gap") in rules(report)
    assert "recorded by checkpoint 0 as the head" in next(
        v.message for v in report.violations if v.rule == "checkpoint-head-mismatch"
    )


def test_checking_one_use_case_uses_only_its_checkpoint_heads(world: LedgerWorld) -> None:
    history(world)
    delete(world, entry_key("alpha", 2))
    assert rules(verify_ledger(world.session.ledger, ["beta"])) == set()
    assert rules(verify_ledger(world.session.ledger, ["alpha"])) == {
        ("alpha", 2, "checkpoint-truncated")
    }


# --- The checkpoint chain itself ---------------------------------------------------------


def forge_checkpoint(
    world: LedgerWorld,
    signer: Signer,
    *,
    sequence: int,
    previous: str | None,
    days: float,
    heads: list[dict[str, Any]],
    root: str | None = None,
) -> None:
    computed = merkle_root([ChainHead.model_validate(h).leaf() for h in heads])
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [checkpoint_subject(computed).model_dump()],
        "predicateType": CHECKPOINT_PREDICATE_TYPE,
        "predicate": {
            "sequence": sequence,
            "previous": previous,
            "time": world.at(days).isoformat(),
            "treeSize": len(heads),
            "root": root or "sha256:" + computed.hex(),
            "heads": heads,
        },
    }
    raw = sign_envelope(canonical_json(statement), signer).to_json_bytes()
    world.session.store.put_new(checkpoint_key(sequence), raw)


def heads_of(checkpoint: Checkpoint) -> list[dict[str, Any]]:
    return [h.model_dump(by_alias=True) for h in checkpoint.heads]


def test_a_deleted_middle_checkpoint_is_a_gap(world: LedgerWorld) -> None:
    history(world)
    write_checkpoint(world.session.ledger, world.session.signer, world.at(4))
    write_checkpoint(world.session.ledger, world.session.signer, world.at(5))
    delete(world, checkpoint_key(1))
    report = verify_ledger(world.session.ledger)
    assert rules(report) == {(CHECKPOINTS, 2, "checkpoint-sequence")}
    assert "checkpoints 1..1 are missing" in report.violations[0].message


def test_a_flipped_byte_in_a_checkpoint_signature_is_detected(world: LedgerWorld) -> None:
    history(world)
    path = world.root / "ledger" / checkpoint_key(0)
    doc = json.loads(path.read_bytes())
    sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
    sig[7] ^= 0x01
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    path.write_text(json.dumps(doc))
    report = verify_ledger(world.session.ledger)
    assert rules(report) == {(CHECKPOINTS, 0, "checkpoint-signature")}
    assert str(report.violations[0]).startswith("@checkpoints#0: [checkpoint-signature]")


def test_a_checkpoint_signed_by_an_approver_key_is_detected(world: LedgerWorld) -> None:
    first = history(world)
    forge_checkpoint(
        world, world.sponsor, sequence=1, previous=first.digest, days=4, heads=heads_of(first)
    )
    report = verify_ledger(world.session.ledger)
    assert rules(report) == {(CHECKPOINTS, 1, "checkpoint-signer")}
    assert "'gate'" in report.violations[0].message


def test_a_checkpoint_by_an_untrusted_key_is_detected(world: LedgerWorld) -> None:
    first = history(world)
    forge_checkpoint(
        world, world.outsider, sequence=1, previous=first.digest, days=4, heads=heads_of(first)
    )
    assert rules(verify_ledger(world.session.ledger)) == {(CHECKPOINTS, 1, "checkpoint-signature")}


def test_a_checkpoint_whose_root_is_not_its_heads_tree_is_detected(world: LedgerWorld) -> None:
    first = history(world)
    forge_checkpoint(
        world,
        world.session.signer,
        sequence=1,
        previous=first.digest,
        days=4,
        heads=heads_of(first),
        root="sha256:" + "0" * 64,
    )
    assert rules(verify_ledger(world.session.ledger)) == {(CHECKPOINTS, 1, "checkpoint-root")}


def test_a_checkpoint_that_shrinks_a_chain_is_detected(world: LedgerWorld) -> None:
    first = history(world)
    alpha = anywhere_head(world, "alpha", 2)
    heads = [alpha if h["useCase"] == "alpha" else h for h in heads_of(first)]
    forge_checkpoint(
        world, world.session.signer, sequence=1, previous=first.digest, days=4, heads=heads
    )
    report = verify_ledger(world.session.ledger)
    assert rules(report) == {("alpha", 1, "checkpoint-inconsistent")}
    assert "rolled back between them" in report.violations[0].message


def anywhere_head(world: LedgerWorld, usecase: str, size: int) -> dict[str, Any]:
    entry = world.session.ledger.read_entry(usecase, size - 1)
    return {"useCase": usecase, "size": size, "head": entry.digest}


def test_a_checkpoint_going_back_in_time_or_off_its_chain_is_detected(world: LedgerWorld) -> None:
    first = history(world)
    forge_checkpoint(
        world,
        world.session.signer,
        sequence=1,
        previous=first.digest,
        days=1,
        heads=heads_of(first),
    )
    forge_checkpoint(
        world,
        world.session.signer,
        sequence=2,
        previous="sha256:" + "1" * 64,
        days=6,
        heads=heads_of(first),
    )
    assert rules(verify_ledger(world.session.ledger)) == {
        (CHECKPOINTS, 1, "checkpoint-time"),
        (CHECKPOINTS, 2, "checkpoint-link"),
    }


def test_a_stray_object_among_checkpoints_is_reported(world: LedgerWorld) -> None:
    history(world)
    world.session.store.put_new("checkpoints/latest.json", b"{}")
    assert rules(verify_ledger(world.session.ledger)) == {(CHECKPOINTS, None, "stray-object")}


def test_a_pinned_checkpoint_catches_deleting_the_newest_checkpoints_too(
    world: LedgerWorld,
) -> None:
    checkpoint = history(world)
    pinned, problems = open_checkpoint("kept.json", checkpoint.raw, world.session.trust, None)
    assert pinned is not None and not problems
    # The attacker removes the newest entry and every checkpoint that recorded it.
    delete(world, entry_key("alpha", 2))
    delete(world, checkpoint_key(0))
    assert rules(verify_ledger(world.session.ledger)) == set()  # nothing left to compare with
    assert rules(verify_ledger(world.session.ledger, pinned=[pinned])) == {
        (CHECKPOINTS, 0, "checkpoint-missing"),
        ("alpha", 2, "checkpoint-truncated"),
    }
