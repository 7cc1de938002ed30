"""What an attacker or a careless hand writes into a ledger, for the tests that must catch it.

Forged entries and checkpoints are signed like the product signs them (DSSE over an
in-toto Statement) but stored straight into the store, past every check the writer
makes. The byte edits change a stored envelope in place.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gates import __version__
from gates.canonical import canonical_json
from gates.ledger.checkpoint import (
    CHECKPOINT_PREDICATE_TYPE,
    ChainHead,
    checkpoint_key,
    checkpoint_subject,
)
from gates.ledger.entry import entry_key
from gates.ledger.merkle import merkle_root
from gates.ledger.statement import PREDICATE_TYPE, STATEMENT_TYPE, usecase_subject
from gates.signing.dsse import sign_envelope
from gates.signing.signers import Signer
from gates.stages import Stage
from gates.store.local import LocalStore
from gates.store.s3 import S3Store
from gates.workspace.session import Session

if TYPE_CHECKING:
    from tests.support.world import World


def forge_entry(
    session: Session,
    usecase: str,
    signer: Signer,
    *,
    kind: str,
    after: Stage,
    time: datetime,
    records: dict[str, Any],
    clock: str | None = None,
) -> int:
    """Sign the chain's next entry as ``mallory`` with ``signer``, claiming ``time`` on
    ``clock`` (the ledger's own by default), and store it unverified; its sequence."""
    ledger = session.ledger
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
            "time": time.isoformat().replace("+00:00", "Z"),
            "clock": clock or ledger.clock.kind,
            "actor": "mallory",
            "tool": {"name": "stagegate", "version": __version__},
            "stage": {"before": state.stage.value if state.stage else None, "after": after.value},
            **records,
        },
    }
    raw = sign_envelope(canonical_json(statement), signer).to_json_bytes()
    ledger.store.put_new(entry_key(usecase, state.next_sequence), raw)
    return state.next_sequence


def forge_checkpoint(
    session: Session,
    signer: Signer,
    *,
    sequence: int,
    previous: str | None,
    time: datetime,
    heads: list[dict[str, Any]],
    root: str | None = None,
) -> None:
    """Sign a checkpoint over ``heads`` (its Merkle root computed unless ``root`` is
    given) and store it unverified."""
    computed = merkle_root([ChainHead.model_validate(h).leaf() for h in heads])
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [checkpoint_subject(computed).model_dump()],
        "predicateType": CHECKPOINT_PREDICATE_TYPE,
        "predicate": {
            "sequence": sequence,
            "previous": previous,
            "time": time.isoformat(),
            "treeSize": len(heads),
            "root": root or "sha256:" + computed.hex(),
            "heads": heads,
        },
    }
    raw = sign_envelope(canonical_json(statement), signer).to_json_bytes()
    session.store.put_new(checkpoint_key(sequence), raw)


def delete_object(session: Session, key: str) -> None:
    """Remove a stored object from a folder or an S3 store, as someone with access could."""
    store = session.store
    if isinstance(store, S3Store):
        from gates.store.s3 import default_client

        default_client().delete_object(Bucket=store.bucket, Key=f"{store.prefix}/{key}")
    else:
        assert isinstance(store, LocalStore)
        (store.root / key).unlink()
    assert not store.exists(key)


def entry_path(root: Path, usecase: str, sequence: int) -> Path:
    """Where a workspace's folder store (``ledger/``) keeps an entry."""
    return root / "ledger" / entry_key(usecase, sequence)


def flip_payload_byte(root: Path, usecase: str, sequence: int) -> None:
    """Flip one bit in the signed payload of a stored entry (the envelope stays well-formed)."""
    path = entry_path(root, usecase, sequence)
    doc = json.loads(path.read_bytes())
    payload = bytearray(base64.b64decode(doc["payload"]))
    payload[len(payload) // 2] ^= 0x01
    doc["payload"] = base64.b64encode(bytes(payload)).decode("ascii")
    path.write_bytes(json.dumps(doc).encode("utf-8"))


def with_non_ascii(text: str) -> str:
    """Base64 text with one character replaced by a non-ASCII letter."""
    middle = len(text) // 2
    return text[:middle] + "é" + text[middle + 1 :]


def edit_envelope(raw: bytes, field: str) -> bytes:
    """An envelope with one non-ASCII character inside its base64 ``payload`` or ``sig``."""
    doc = json.loads(raw)
    if field == "payload":
        doc["payload"] = with_non_ascii(doc["payload"])
    else:
        doc["signatures"][0]["sig"] = with_non_ascii(doc["signatures"][0]["sig"])
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def non_ascii_in_base64(root: Path, usecase: str, sequence: int, field: str = "payload") -> None:
    """Put one non-ASCII character inside a stored entry's base64 ``payload`` or ``sig``."""
    path = entry_path(root, usecase, sequence)
    path.write_bytes(edit_envelope(path.read_bytes(), field))


def gate_record(
    world: World, verdict: str, *, digest: str | None = None, approvals: list[int] | None = None
) -> dict[str, Any]:
    """alpha's Explore → PoC gate record with ``verdict``, judged against ``digest`` (the
    Explore criteria the spec gives by default), citing ``approvals``."""
    return {
        "from": "explore",
        "to": "poc",
        "verdict": verdict,
        "criteriaDigest": digest or world.lock("alpha", Stage.EXPLORE)["digest"],
        "checks": [
            {"check": "approval:sponsor", "kind": "approvals", "status": "pass", "reason": "ok"}
        ],
        "approvals": approvals or [],
    }


def sponsor_approval_record(session: Session, usecase: str = "alpha") -> dict[str, Any]:
    """Dana Park's approval of the move to PoC under the locked Explore criteria."""
    lock = session.ledger.state(usecase).lock
    assert lock is not None
    return {
        "approval": {
            "role": "sponsor",
            "approver": "Dana Park",
            "from": "explore",
            "to": "poc",
            "criteriaDigest": lock.digest,
        }
    }


def replace_signature(root: Path, usecase: str, sequence: int) -> None:
    """Keep the entry's signed payload, swap its signature for 64 other bytes: what a
    store administrator without any key can do to an old entry."""
    path = entry_path(root, usecase, sequence)
    doc = json.loads(path.read_bytes())
    doc["signatures"][0]["sig"] = base64.b64encode(os.urandom(64)).decode("ascii")
    path.write_bytes(json.dumps(doc).encode("utf-8"))


def vouch_for(path: Path, usecase: str, sequence: int, raw: bytes) -> None:
    """Edit a heads file so it records ``raw`` as the verified bytes of the entry,
    keeping its MAC line: all one can do without the secret."""
    mac, _, body = path.read_bytes().partition(b"\n")
    doc = json.loads(body)
    stored = bytearray.fromhex(doc["heads"][usecase]["stored"])
    stored[32 * sequence : 32 * (sequence + 1)] = hashlib.sha256(raw).digest()
    doc["heads"][usecase]["stored"] = stored.hex()
    path.write_bytes(mac + b"\n" + json.dumps(doc).encode())
