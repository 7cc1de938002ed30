"""Export bundles: one use case's history, verifiable offline with no store access.

A bundle is one JSON document (docs/adr/0005-checkpoints-and-bundles.md): the chain's
envelopes as the exact stored bytes (base64), the public keys the exporter trusted, the
newest checkpoint covering the chain with the Merkle inclusion proof of its head, and
the verification report made at export. ``verify_bundle`` re-runs the ordinary verifier
over an in-memory store holding those bytes.

The keys inside a bundle are information, not trust: a bundle could list any key. The
caller decides which keys to trust (the auditor's own settings file, or, explicitly,
the bundle's keys), and ``trust_notes`` says where the bundle's list differs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AwareDatetime, Field, ValidationError

from gates._version import __version__
from gates.canonical import strict_json_loads
from gates.clock import Clock
from gates.errors import ConfigError, LedgerError, StoreError
from gates.ledger.chain import Ledger
from gates.ledger.checkpoint import (
    Checkpoint,
    CheckpointRead,
    open_checkpoint,
    parse_checkpoint_key,
    read_checkpoints,
)
from gates.ledger.entry import Violation, parse_entry_key
from gates.ledger.proof import inclusion_proof, verify_inclusion
from gates.ledger.statement import Tool, WireModel
from gates.ledger.timestamps import parse_token_key
from gates.ledger.verify import NO_CHECKPOINT_NOTE, VerificationReport, verify_ledger
from gates.signing.dsse import b64decode_strict
from gates.signing.keys import PublicKey, key_id
from gates.signing.trust import TrustedSigner, TrustStore
from gates.store.memory import MemoryStore

if TYPE_CHECKING:
    from gates.tsa.authority import Timestamping

BUNDLE_TYPE: Literal["https://stagegate.dev/audit-bundle/v1"] = (
    "https://stagegate.dev/audit-bundle/v1"
)


class BundleEntry(WireModel):
    key: str
    #: Base64 of the stored DSSE envelope, byte for byte.
    envelope: str


class BundleToken(WireModel):
    key: str
    #: Base64 of the stored RFC 3161 timestamp reply (``.tsr``), byte for byte.
    token: str


class BundleKey(WireModel):
    name: str = Field(min_length=1)
    keyid: str = Field(pattern=r"^[0-9a-f]{64}$")
    roles: list[str] = Field(min_length=1)
    revoked: bool = False
    pem: str


class BundleCheckpoint(WireModel):
    key: str
    #: Base64 of the stored checkpoint envelope, byte for byte.
    envelope: str
    leaf_index: int = Field(alias="leafIndex", ge=0)
    tree_size: int = Field(alias="treeSize", ge=1)
    inclusion: list[str]


class Bundle(WireModel):
    type_: Literal["https://stagegate.dev/audit-bundle/v1"] = Field(
        default=BUNDLE_TYPE, alias="_type"
    )
    use_case: str = Field(alias="useCase", min_length=1)
    created: AwareDatetime
    tool: Tool
    entries: list[BundleEntry]
    #: The entries' timestamp tokens, where the ledger has them.
    timestamps: list[BundleToken] = Field(default_factory=list)
    keys: list[BundleKey]
    checkpoint: BundleCheckpoint | None
    #: ``VerificationReport.to_json()`` as the exporter saw it (informative only).
    report: dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes | None:
    return b64decode_strict(text)


def export_bundle(
    ledger: Ledger, usecase: str, *, now: datetime | None = None
) -> tuple[Bundle, VerificationReport]:
    """Read one chain's exact bytes and the checkpoint covering it; verify what was read.

    The report covers exactly the bytes placed in the bundle (checked against every
    checkpoint in the store), so an auditor re-verifying the bundle sees the same.
    """
    listed = ledger.index(usecase, received=True)
    keyed = listed.chains.get(usecase, [])
    if not keyed:
        raise LedgerError(f"no ledger entries for use case {usecase!r} in {ledger.store.uri}")
    copy = MemoryStore(f"export:{usecase}")
    entries: list[BundleEntry] = []
    exported = datetime.now(UTC)
    for key, raw in ledger.store.get_many(key for _, key in keyed):
        # The copy keeps the store's clock, so the report judges entry times as
        # `audit verify` does; the bundle itself cannot carry it.
        copy.put_copy(key, raw, listed.received.get(key, exported))
        entries.append(BundleEntry(key=key, envelope=_b64(raw)))
    token_keys = [k for _, keys in sorted(listed.tokens.get(usecase, {}).items()) for k in keys]
    timestamps: list[BundleToken] = []
    for key, raw in ledger.store.get_many(token_keys):
        copy.put_copy(key, raw, exported)
        timestamps.append(BundleToken(key=key, token=_b64(raw)))
    covering: list[Checkpoint] = []

    def noting_cover(reads: Iterable[CheckpointRead]) -> Iterator[CheckpointRead]:
        for read in reads:
            if read.sound and read.checkpoint and read.checkpoint.head(usecase) is not None:
                covering[:] = [read.checkpoint]
            yield read

    report = verify_ledger(
        Ledger(copy, ledger.trust, ledger.clock, ledger.timestamping),
        [usecase],
        checkpoints=noting_cover(read_checkpoints(ledger)),
    )
    checkpoint = None
    if covering:
        cp = covering[0]
        index = cp.leaf_index(usecase)
        assert index is not None
        checkpoint = BundleCheckpoint(
            key=cp.key,
            envelope=_b64(cp.raw),
            leaf_index=index,
            tree_size=cp.predicate.tree_size,
            inclusion=inclusion_proof(cp, usecase),
        )
    keys = [
        BundleKey(
            name=s.name,
            keyid=s.public.keyid,
            roles=sorted(s.roles),
            revoked=s.revoked,
            pem=s.public.pem().decode("ascii"),
        )
        for s in sorted(ledger.trust.by_keyid.values(), key=lambda s: (s.name, s.public.keyid))
    ]
    bundle = Bundle(
        use_case=usecase,
        created=(now or datetime.now(UTC)).astimezone(UTC),
        tool=Tool(version=__version__),
        entries=entries,
        timestamps=timestamps,
        keys=keys,
        checkpoint=checkpoint,
        report=report.to_json(),
    )
    return bundle, report


def write_bundle(bundle: Bundle, path: Path) -> None:
    """Write the bundle as JSON, atomically (a reader never sees half a file)."""
    data = json.dumps(bundle.model_dump(mode="json", by_alias=True), indent=1) + "\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        tmp.write_text(data, "utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError(str(path), [f"cannot write the bundle: {e.strerror or e}"]) from e
    finally:
        tmp.unlink(missing_ok=True)


def load_bundle(path: Path) -> Bundle:
    """Parse a bundle file strictly; ConfigError naming the file and field otherwise."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read the bundle: {e.strerror or e}"]) from e
    try:
        doc = strict_json_loads(data)
    except ValueError as e:  # invalid JSON or UTF-8, NaN, integers past the limit, too deep
        raise ConfigError(str(path), [f"not a stagegate bundle (invalid JSON: {e})"]) from e
    try:
        return Bundle.model_validate(doc)
    except ValidationError as e:
        problems = [
            f"{'.'.join(map(str, err['loc'])) or '(top)'}: {err['msg']}" for err in e.errors()[:5]
        ]
        raise ConfigError(str(path), problems, hint=f"expected a {BUNDLE_TYPE} document") from e


def bundle_trust(bundle: Bundle) -> TrustStore:
    """The keys the bundle itself lists, as a TrustStore. Only on the auditor's say-so."""
    signers: dict[str, TrustedSigner] = {}
    for k in bundle.keys:
        try:
            key = serialization.load_pem_public_key(k.pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as e:
            raise ConfigError("bundle", [f"keys.{k.name}: not a PEM public key"]) from e
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError("bundle", [f"keys.{k.name}: not an Ed25519 public key"])
        if key_id(key) != k.keyid:
            raise ConfigError(
                "bundle", [f"keys.{k.name}: keyid {k.keyid[:12]}… does not match its PEM"]
            )
        signers[k.keyid] = TrustedSigner(
            k.name, frozenset(k.roles), k.revoked, PublicKey(k.keyid, key.public_bytes_raw())
        )
    return TrustStore(signers)


def trust_notes(bundle: Bundle, trust: TrustStore) -> list[str]:
    """Where the bundle's key list differs from the keys actually trusted."""
    notes: list[str] = []
    for k in bundle.keys:
        mine = trust.by_keyid.get(k.keyid)
        if mine is None:
            notes.append(
                f"the bundle lists key {k.name!r} ({k.keyid[:12]}) with roles "
                f"{', '.join(k.roles)}; it is not among the trusted keys"
            )
        elif set(k.roles) != mine.roles or k.revoked != mine.revoked:
            notes.append(
                f"the bundle lists key {k.name!r} ({k.keyid[:12]}) with roles {', '.join(k.roles)}"
                f"{' (revoked)' if k.revoked else ''}; trusted as {mine.name!r} with roles "
                f"{', '.join(sorted(mine.roles))}{' (revoked)' if mine.revoked else ''}"
            )
    return notes


def verify_bundle(
    bundle: Bundle,
    trust: TrustStore,
    *,
    pinned: Iterable[Checkpoint] = (),
    clock: Clock | None = None,
    timestamping: Timestamping | None = None,
) -> VerificationReport:
    """Verify a bundle with no store access: its chain, its checkpoint and inclusion proof,
    and its timestamp tokens against ``timestamping``'s chain.

    ``clock``: the auditor's clock settings (by default the system clock, under which
    entries written on a simulated clock are violations).
    """
    uc = bundle.use_case
    store = MemoryStore(f"bundle:{uc}")
    problems: list[Violation] = []
    for position, item in enumerate(bundle.entries):
        parsed = parse_entry_key(item.key)
        if parsed is None or parsed[0] != uc:
            problems.append(
                Violation(
                    uc,
                    None,
                    "bundle-foreign-entry",
                    f"bundle entry {position} has key {item.key!r}, not an entry key of {uc}",
                )
            )
            continue
        raw = _unb64(item.envelope)
        if raw is None:
            problems.append(
                Violation(
                    uc, parsed[1], "envelope-malformed", f"{item.key}: envelope is not base64"
                )
            )
            continue
        try:
            store.put_new(item.key, raw)
        except StoreError as e:
            problems.append(Violation(uc, parsed[1], "bundle-foreign-entry", e.message))
    problems.extend(_bundle_tokens(bundle, store))
    checkpoints = list(pinned)
    notes: list[str] = [
        "a bundle carries no store clock: entry times were not compared with when the store "
        "received them"
        + ("; the timestamp tokens were checked instead" if timestamping is not None else "")
    ]
    if bundle.checkpoint is None:
        notes.append(
            "the bundle carries no checkpoint: deletion of the chain's newest entries before "
            "export cannot be ruled out"
        )
    else:
        problems.extend(_bundle_checkpoint(bundle.checkpoint, uc, trust, checkpoints))
    report = verify_ledger(
        Ledger(store, trust, clock, timestamping),
        [uc],
        checkpoints=(),
        pinned=checkpoints,
        store_clock=False,
    )
    exported = bundle.report
    said = exported.get("violations") if isinstance(exported, dict) else None
    if isinstance(said, list):
        notes.append(
            f"the report made at export ({bundle.created.isoformat()}) found "
            f"{len(said)} violation(s)"
        )
    # The bundle says for itself whether it carries a checkpoint.
    kept = (n for n in report.notes if n != NO_CHECKPOINT_NOTE)
    return replace(report, violations=(*problems, *report.violations), notes=(*kept, *notes))


def _bundle_tokens(bundle: Bundle, store: MemoryStore) -> list[Violation]:
    """Place the bundle's timestamp tokens at their keys; violations for foreign or bad ones."""
    uc = bundle.use_case
    problems: list[Violation] = []
    for position, item in enumerate(bundle.timestamps):
        parsed = parse_token_key(item.key)
        if parsed is None or parsed[0] != uc:
            problems.append(
                Violation(
                    uc,
                    None,
                    "bundle-foreign-entry",
                    f"bundle timestamp {position} has key {item.key!r}, not a token key of {uc}",
                )
            )
            continue
        raw = _unb64(item.token)
        if raw is None:
            problems.append(
                Violation(uc, parsed[1], "timestamp-invalid", f"{item.key}: token is not base64")
            )
            continue
        try:
            store.put_new(item.key, raw)
        except StoreError as e:
            problems.append(Violation(uc, parsed[1], "bundle-foreign-entry", e.message))
    return problems


def _bundle_checkpoint(
    item: BundleCheckpoint, uc: str, trust: TrustStore, pinned: list[Checkpoint]
) -> list[Violation]:
    raw = _unb64(item.envelope)
    if raw is None:
        return [
            Violation(uc, None, "checkpoint-malformed", "the bundle's checkpoint is not base64")
        ]
    checkpoint, problems = open_checkpoint(item.key, raw, trust, parse_checkpoint_key(item.key))
    if checkpoint is None or problems:
        return problems
    pinned.append(checkpoint)
    head = checkpoint.head(uc)
    if head is None:
        return [
            Violation(
                uc,
                None,
                "checkpoint-inclusion",
                f"the bundle's checkpoint {checkpoint.sequence} does not cover {uc}",
            )
        ]
    if item.tree_size != checkpoint.predicate.tree_size or not verify_inclusion(
        head, item.leaf_index, item.tree_size, item.inclusion, checkpoint.root
    ):
        return [
            Violation(
                uc,
                head.size - 1,
                "checkpoint-inclusion",
                f"the inclusion proof does not lead from the head of {uc} to checkpoint "
                f"{checkpoint.sequence}'s root {checkpoint.root}",
            )
        ]
    return []
