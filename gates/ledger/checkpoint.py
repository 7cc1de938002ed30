"""Signed checkpoints over every chain's head, so that truncation and rollback show.

A chain alone cannot tell that its newest entries were deleted, or that it was rolled
back and grown again: what is left still links and verifies. A checkpoint is a signed
statement of every chain's size and head digest at one moment, with an RFC 6962 Merkle
tree over those heads. Verification then demands that today's chains *extend* every
past checkpoint: at least as many entries, and at position ``size - 1`` exactly the
digest recorded. The Merkle root lets one chain's head be shown to belong to a
checkpoint without the other heads (an inclusion proof), and ``prove_entry`` links one
entry to that head, so a single entry can be proven to an outside party offline.

Checkpoints form their own chain (``sequence`` and ``previous``) in the ledger's store,
at ``checkpoints/<sequence, 12 digits>.dsse.json``, written create-only and signed by a
``gate`` key. Format decisions: docs/adr/0005-checkpoints-and-bundles.md.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from gates.canonical import canonical_json, strict_json_loads
from gates.errors import EntryExistsError, LedgerError
from gates.ledger.entry import Entry, Violation, entry_key, open_entry, payload_digest
from gates.ledger.statement import STATEMENT_TYPE, Statement, Subject
from gates.signing.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    Envelope,
    b64decode_strict,
    parse_envelope,
    sign_envelope,
)
from gates.signing.signers import Signer
from gates.signing.trust import GATE_ROLE, TrustStore

if TYPE_CHECKING:
    from gates.ledger.chain import Ledger

CHECKPOINT_PREDICATE_TYPE = "https://stagegate.dev/checkpoint/v1"
ENTRY_PROOF_TYPE: Literal["https://stagegate.dev/entry-proof/v1"] = (
    "https://stagegate.dev/entry-proof/v1"
)
CHECKPOINT_SUBJECT = "stagegate:checkpoint"
CHECKPOINTS_PREFIX = "checkpoints/"
CHECKPOINT_SUFFIX = ".dsse.json"
#: The name violations of the checkpoint chain itself are filed under. It cannot be a
#: use-case id (those are lower-case letters, digits and '-').
CHECKPOINTS = "@checkpoints"

_DIGEST = r"^sha256:[0-9a-f]{64}$"
_HEX = r"^[0-9a-f]{64}$"


# --- RFC 6962 Merkle tree ---------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n ≥ 2): where RFC 6962 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return hashes[lo]
    k = _split(hi - lo)
    return node_hash(_subtree(hashes, lo, lo + k), _subtree(hashes, lo + k, hi))


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (SHA-256 of nothing for an empty tree)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    hashes = [leaf_hash(leaf) for leaf in leaves]
    return _subtree(hashes, 0, len(hashes))


def merkle_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The RFC 6962 audit path of leaf ``index``: sibling hashes from the leaf upwards."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is outside a tree of {len(leaves)} leaves")
    hashes = [leaf_hash(leaf) for leaf in leaves]
    path: list[bytes] = []
    lo, hi = 0, len(hashes)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_subtree(hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree(hashes, lo, lo + k))
            lo = lo + k
    return path[::-1]


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to (RFC 9162 §2.1.3.2), or None if it cannot fit."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# --- Wire format ------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChainHead(_Wire):
    """One Merkle leaf: a chain's size (entries) and the digest of its head payload."""

    use_case: str = Field(alias="useCase", min_length=1)
    size: int = Field(ge=1)
    head: str = Field(pattern=_DIGEST)

    def leaf(self) -> bytes:
        return canonical_json(self.model_dump(by_alias=True))


class CheckpointPredicate(_Wire):
    sequence: int = Field(ge=0)
    previous: str | None = Field(pattern=_DIGEST)
    time: AwareDatetime
    tree_size: int = Field(alias="treeSize", ge=0)
    root: str = Field(pattern=_DIGEST)
    heads: list[ChainHead]


class CheckpointStatement(_Wire):
    type_: Literal["https://in-toto.io/Statement/v1"] = Field(alias="_type")
    subject: list[Subject] = Field(min_length=1, max_length=1)
    predicate_type: Literal["https://stagegate.dev/checkpoint/v1"] = Field(alias="predicateType")
    predicate: CheckpointPredicate


def checkpoint_subject(root: bytes) -> Subject:
    return Subject(name=CHECKPOINT_SUBJECT, digest={"sha256": root.hex()})


def checkpoint_key(sequence: int) -> str:
    return f"{CHECKPOINTS_PREFIX}{sequence:012d}{CHECKPOINT_SUFFIX}"


def parse_checkpoint_key(key: str) -> int | None:
    """``checkpoints/<seq>.dsse.json`` → seq; None for anything else."""
    if not key.startswith(CHECKPOINTS_PREFIX) or not key.endswith(CHECKPOINT_SUFFIX):
        return None
    middle = key[len(CHECKPOINTS_PREFIX) : -len(CHECKPOINT_SUFFIX)]
    return int(middle) if len(middle) == 12 and middle.isascii() and middle.isdigit() else None


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose signature has been verified against trusted keys."""

    key: str
    #: The stored envelope bytes, exactly as read (bundles and proofs carry them as is).
    raw: bytes
    envelope: Envelope
    statement: CheckpointStatement
    #: ``sha256:<hex>`` of the signed payload bytes: what the next checkpoint links to.
    digest: str
    signer_keyids: frozenset[str]

    @property
    def predicate(self) -> CheckpointPredicate:
        return self.statement.predicate

    @property
    def sequence(self) -> int:
        return self.predicate.sequence

    @property
    def time(self) -> datetime:
        return self.predicate.time

    @property
    def root(self) -> str:
        return self.predicate.root

    @property
    def heads(self) -> list[ChainHead]:
        return self.predicate.heads

    @cached_property
    def _index(self) -> dict[str, int]:
        return {h.use_case: i for i, h in enumerate(self.heads)}

    def leaf_index(self, usecase: str) -> int | None:
        return self._index.get(usecase)

    def head(self, usecase: str) -> ChainHead | None:
        i = self._index.get(usecase)
        return None if i is None else self.heads[i]

    def summary(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "key": self.key,
            "time": self.time.isoformat(),
            "treeSize": self.predicate.tree_size,
            "root": self.root,
            "digest": self.digest,
        }


def open_checkpoint(
    key: str, raw: bytes, trust: TrustStore, sequence: int | None
) -> tuple[Checkpoint | None, list[Violation]]:
    """Verify a stored checkpoint's signature, signer and Merkle root, then parse it.

    ``sequence`` is the number its storage key says (None when it came from elsewhere,
    e.g. a bundle or a proof). Problems are violations filed under ``@checkpoints``.
    """

    def fail(rule: str, message: str) -> tuple[None, list[Violation]]:
        return None, [Violation(CHECKPOINTS, sequence, rule, f"{key}: {message}")]

    try:
        envelope = parse_envelope(raw, key)
    except LedgerError as e:
        return fail("checkpoint-malformed", e.message)
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        return fail(
            "checkpoint-malformed",
            f"payloadType {envelope.payload_type!r}; expected {IN_TOTO_PAYLOAD_TYPE}",
        )
    verified = envelope.verified_keyids(s.public for s in trust.by_keyid.values())
    if not verified:
        claimed = ", ".join(trust.describe(s.keyid) for s in envelope.signatures)
        return fail("checkpoint-signature", f"no valid signature by a trusted key ({claimed})")
    try:
        statement = CheckpointStatement.model_validate(strict_json_loads(envelope.payload))
    except (ValueError, ValidationError) as e:
        return fail(
            "checkpoint-malformed",
            f"signed payload is not a {CHECKPOINT_PREDICATE_TYPE} statement: {_first_error(e)}",
        )
    pred = statement.predicate
    seq = pred.sequence if sequence is None else sequence
    problems: list[Violation] = []

    def problem(rule: str, message: str) -> None:
        problems.append(Violation(CHECKPOINTS, seq, rule, message))

    if pred.sequence != seq:
        problem("checkpoint-sequence", f"checkpoint says sequence {pred.sequence}, stored as {seq}")
    signers = [trust.by_keyid[k] for k in sorted(verified)]
    if not any(GATE_ROLE in s.roles and not s.revoked for s in signers):
        names = ", ".join(
            f"{s.name} (roles: {', '.join(sorted(s.roles))}{', revoked' if s.revoked else ''})"
            for s in signers
        )
        problem(
            "checkpoint-signer",
            f"a checkpoint needs a non-revoked {GATE_ROLE!r} key; signed by {names}",
        )
    names_in_order = [h.use_case for h in pred.heads]
    if any(a >= b for a, b in pairwise(names_in_order)):
        problem("checkpoint-malformed", "heads are not in strictly ascending use-case order")
    root = merkle_root([h.leaf() for h in pred.heads])
    if pred.tree_size != len(pred.heads):
        problem("checkpoint-root", f"treeSize {pred.tree_size} but {len(pred.heads)} heads")
    if pred.root != "sha256:" + root.hex() or statement.subject != [checkpoint_subject(root)]:
        problem(
            "checkpoint-root",
            f"recorded root {pred.root} is not the Merkle root of its heads (sha256:{root.hex()})",
        )
    checkpoint = Checkpoint(
        key, raw, envelope, statement, payload_digest(envelope.payload), frozenset(verified)
    )
    return checkpoint, problems


def _first_error(e: Exception) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
    return str(e)


# --- Reading the checkpoint chain ---------------------------------------------------------


@dataclass(frozen=True)
class CheckpointRead:
    """One stored checkpoint (or stray object) with every problem found reading it."""

    sequence: int | None
    checkpoint: Checkpoint | None
    violations: tuple[Violation, ...]
    #: Signature, signer, root and sequence all hold: its heads may be relied on.
    sound: bool


def read_checkpoints(ledger: Ledger) -> Iterator[CheckpointRead]:
    """Stream the store's checkpoints in order, each verified and linked to the one before.

    The chain rules: sequence numbers contiguous from 0, ``previous`` the digest of the
    preceding checkpoint's payload, times never going backwards.
    """
    keyed: list[tuple[int, str]] = []
    for key in ledger.store.list_keys(CHECKPOINTS_PREFIX):
        parsed = parse_checkpoint_key(key)
        if parsed is None:
            stray = Violation(CHECKPOINTS, None, "stray-object", f"{key} is not a checkpoint key")
            yield CheckpointRead(None, None, (stray,), False)
        else:
            keyed.append((parsed, key))
    keyed.sort()
    sequence_of = {key: seq for seq, key in keyed}
    expected = 0
    previous: str | None = None
    previous_known = True
    last_time: datetime | None = None
    for key, raw in ledger.store.get_many(key for _, key in keyed):
        seq = sequence_of[key]
        checkpoint, problems = open_checkpoint(key, raw, ledger.trust, seq)
        sound = checkpoint is not None and not problems
        found: list[tuple[str, str]] = []
        contiguous = seq == expected
        if not contiguous:
            found.append(
                (
                    "checkpoint-sequence",
                    f"expected checkpoint {expected}, found {seq}: checkpoints "
                    f"{expected}..{seq - 1} are missing",
                )
            )
        if checkpoint is not None:
            p = checkpoint.predicate
            if contiguous and previous_known and p.previous != previous:
                found.append(
                    (
                        "checkpoint-link",
                        f"links to {p.previous}, but the previous checkpoint is {previous}",
                    )
                )
            if last_time is not None and p.time < last_time:
                found.append(
                    (
                        "checkpoint-time",
                        f"time {p.time.isoformat()} is before the previous checkpoint's "
                        f"{last_time.isoformat()}",
                    )
                )
            previous, previous_known = checkpoint.digest, True
            last_time = max(p.time, last_time) if last_time else p.time
        else:
            previous_known = False
        expected = seq + 1
        problems.extend(Violation(CHECKPOINTS, seq, rule, message) for rule, message in found)
        yield CheckpointRead(seq, checkpoint, tuple(problems), sound)


@dataclass(frozen=True)
class HeadClaim:
    """A checkpoint's claim: the chain had ``size`` entries ending in payload ``head``."""

    head: str
    checkpoint: int


@dataclass
class CheckpointHistory:
    """What all sound checkpoints say about each chain, with duplicate claims folded.

    Memory grows with the number of *distinct* (chain, size) pairs the checkpoints
    record, not with the number of checkpoints or entries: a chain that did not change
    between two checkpoints adds nothing.
    """

    usecases: Collection[str] | None = None
    claims: dict[str, dict[int, HeadClaim]] = field(default_factory=dict)
    #: Per chain: the size the most recent in-order checkpoint recorded, and which one.
    last_size: dict[str, tuple[int, int]] = field(default_factory=dict)
    latest: Checkpoint | None = None
    count: int = 0

    def _wanted(self, usecase: str) -> bool:
        return self.usecases is None or usecase in self.usecases

    def add(self, checkpoint: Checkpoint, *, in_order: bool = True) -> list[Violation]:
        """Record ``checkpoint``'s heads; violations where it contradicts earlier ones.

        ``in_order``: it follows every checkpoint added so far (the store's chain), so a
        chain it records shorter than before, or leaves out, was rolled back between them.
        """
        problems: list[Violation] = []
        cp = checkpoint.sequence
        listed: set[str] = set()
        for h in checkpoint.heads:
            if not self._wanted(h.use_case):
                continue
            listed.add(h.use_case)
            sizes = self.claims.setdefault(h.use_case, {})
            prior = sizes.get(h.size)
            if prior is None:
                sizes[h.size] = HeadClaim(h.head, cp)
            elif prior.head != h.head:
                problems.append(
                    Violation(
                        h.use_case,
                        h.size - 1,
                        "checkpoint-inconsistent",
                        f"checkpoint {cp} records head {h.head} at {h.size} entries; "
                        f"checkpoint {prior.checkpoint} recorded {prior.head}",
                    )
                )
            if in_order:
                last = self.last_size.get(h.use_case)
                if last is not None and h.size < last[0]:
                    problems.append(
                        Violation(
                            h.use_case,
                            h.size - 1,
                            "checkpoint-inconsistent",
                            f"checkpoint {cp} records {h.size} entries; checkpoint {last[1]} "
                            f"recorded {last[0]}: the chain was rolled back between them",
                        )
                    )
                self.last_size[h.use_case] = (h.size, cp)
        if in_order:
            for usecase, (size, where) in self.last_size.items():
                if usecase not in listed:
                    problems.append(
                        Violation(
                            usecase,
                            None,
                            "checkpoint-inconsistent",
                            f"checkpoint {cp} leaves out this chain, which checkpoint {where} "
                            f"recorded with {size} entries",
                        )
                    )
            if self.latest is None or cp >= self.latest.sequence:
                self.latest = checkpoint
        self.count += 1
        return problems


# --- Writing ----------------------------------------------------------------------------


def write_checkpoint(ledger: Ledger, signer: Signer, now: datetime | None = None) -> Checkpoint:
    """Verify the whole ledger, then sign its chain heads as the next checkpoint.

    Refuses (LedgerError, nothing written) when the ledger fails verification, since a
    checkpoint would vouch for the damage; when ``now`` is before the previous
    checkpoint; or when the signer is not a trusted ``gate`` key. Create-only: of two
    concurrent writers exactly one wins, the other gets EntryExistsError.
    """
    from gates.ledger.verify import verify_ledger

    time = ledger.clock.stamp(now, what="a checkpoint")
    report = verify_ledger(ledger)
    if report.violations:
        first = report.violations[0]
        more = len(report.violations) - 1
        raise LedgerError(
            f"refusing to checkpoint a ledger that fails verification: {first}"
            + (f" (and {more} more)" if more else ""),
            hint="run `stagegate audit verify` for the full report; nothing was written",
        )
    latest = report.latest_checkpoint
    if latest is not None and time < latest.time:
        raise LedgerError(
            f"clock {time.isoformat()} is behind checkpoint {latest.sequence} "
            f"({latest.time.isoformat()}); refusing to write a back-dated checkpoint"
        )
    heads = [
        ChainHead(use_case=c.usecase, size=c.entries, head=c.head)
        for c in sorted(report.chains, key=lambda c: c.usecase)
        if c.head is not None
    ]
    root = merkle_root([h.leaf() for h in heads])
    sequence = latest.sequence + 1 if latest else 0
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [checkpoint_subject(root).model_dump()],
        "predicateType": CHECKPOINT_PREDICATE_TYPE,
        "predicate": {
            "sequence": sequence,
            "previous": latest.digest if latest else None,
            "time": time.isoformat().replace("+00:00", "Z"),
            "treeSize": len(heads),
            "root": "sha256:" + root.hex(),
            "heads": [h.model_dump(by_alias=True) for h in heads],
        },
    }
    CheckpointStatement.model_validate(statement)  # never sign what we could not read back
    raw = sign_envelope(canonical_json(statement), signer).to_json_bytes()
    key = checkpoint_key(sequence)
    checkpoint, problems = open_checkpoint(key, raw, ledger.trust, sequence)
    if checkpoint is None or problems:
        raise LedgerError(
            f"{key}: refusing to write a checkpoint that does not verify: {problems[0]}"
        )
    try:
        ledger.store.put_new(key, raw)
    except EntryExistsError:
        raise EntryExistsError(
            f"checkpoint {sequence} was written by another writer first; nothing was written"
        ) from None
    return checkpoint


# --- Proofs -----------------------------------------------------------------------------


def inclusion_proof(checkpoint: Checkpoint, usecase: str) -> list[str]:
    """The Merkle audit path (hex) of ``usecase``'s head leaf in ``checkpoint``."""
    index = checkpoint.leaf_index(usecase)
    if index is None:
        raise LedgerError(f"checkpoint {checkpoint.sequence} does not cover use case {usecase!r}")
    return [h.hex() for h in merkle_path([h.leaf() for h in checkpoint.heads], index)]


def verify_inclusion(
    head: ChainHead, index: int, tree_size: int, proof: Sequence[str], root: str
) -> bool:
    """Does the audit path ``proof`` lead from ``head``'s leaf at ``index`` to ``root``?"""
    try:
        path = [bytes.fromhex(p) for p in proof]
    except ValueError:
        return False
    if any(len(p) != 32 for p in path):
        return False
    found = root_from_path(head.leaf(), index, tree_size, path)
    return found is not None and "sha256:" + found.hex() == root


class EntryProof(_Wire):
    """Offline proof that one entry is part of a chain whose head a checkpoint signed."""

    type_: Literal["https://stagegate.dev/entry-proof/v1"] = Field(
        default=ENTRY_PROOF_TYPE, alias="_type"
    )
    use_case: str = Field(alias="useCase", min_length=1)
    sequence: int = Field(ge=0)
    #: Base64 of the entry's stored DSSE envelope (exact bytes).
    entry: str
    #: Base64 payloads of entries ``sequence + 1`` … head, each linking to the one before.
    links: list[str]
    #: Base64 of the checkpoint's stored DSSE envelope (exact bytes).
    checkpoint: str
    leaf_index: int = Field(alias="leafIndex", ge=0)
    tree_size: int = Field(alias="treeSize", ge=1)
    inclusion: list[str]


@dataclass(frozen=True)
class EntryProofResult:
    violations: tuple[Violation, ...]
    entry: Entry | None = None
    checkpoint: Checkpoint | None = None

    @property
    def verified(self) -> bool:
        return not self.violations and self.entry is not None and self.checkpoint is not None

    def __bool__(self) -> bool:
        return self.verified


def prove_entry(ledger: Ledger, usecase: str, sequence: int, checkpoint: Checkpoint) -> EntryProof:
    """Build the proof that entry ``usecase#sequence`` is covered by ``checkpoint``.

    Reads the entry and every later entry up to the checkpointed head; the proof is
    verified before it is returned (LedgerError naming the problem otherwise).
    """
    head = checkpoint.head(usecase)
    index = checkpoint.leaf_index(usecase)
    if head is None or index is None:
        raise LedgerError(
            f"checkpoint {checkpoint.sequence} does not cover use case {usecase!r}",
            hint="write a newer one with `stagegate audit checkpoint`",
        )
    if sequence >= head.size:
        raise LedgerError(
            f"{usecase}#{sequence} is newer than checkpoint {checkpoint.sequence}, which covers "
            f"entries 0..{head.size - 1}",
            hint="write a newer one with `stagegate audit checkpoint`",
        )
    keys = [entry_key(usecase, s) for s in range(sequence, head.size)]
    entry_raw = b""
    links: list[str] = []
    for key, raw in ledger.store.get_many(keys):
        if not entry_raw:
            entry_raw = raw
            continue
        try:
            links.append(base64.b64encode(parse_envelope(raw, key).payload).decode("ascii"))
        except LedgerError as e:
            raise LedgerError(f"cannot prove {usecase}#{sequence}: {e.message}") from e
    proof = EntryProof(
        use_case=usecase,
        sequence=sequence,
        entry=base64.b64encode(entry_raw).decode("ascii"),
        links=links,
        checkpoint=base64.b64encode(checkpoint.raw).decode("ascii"),
        leaf_index=index,
        tree_size=checkpoint.predicate.tree_size,
        inclusion=inclusion_proof(checkpoint, usecase),
    )
    result = verify_entry_proof(proof, ledger.trust)
    if not result.verified:
        raise LedgerError(f"cannot prove {usecase}#{sequence}: {result.violations[0]}")
    return proof


def verify_entry_proof(proof: EntryProof, trust: TrustStore) -> EntryProofResult:
    """Check a proof offline: entry and checkpoint signatures, hash links, Merkle path.

    Links are checked from the signed head backwards, so every payload's digest is
    verified before it is parsed.
    """
    uc, seq = proof.use_case, proof.sequence
    problems: list[Violation] = []

    def problem(rule: str, message: str) -> EntryProofResult:
        problems.append(Violation(uc, seq, rule, message))
        return EntryProofResult(tuple(problems))

    entry_raw, checkpoint_raw = _b64(proof.entry), _b64(proof.checkpoint)
    links = [_b64(link) for link in proof.links]
    if entry_raw is None or checkpoint_raw is None or any(link is None for link in links):
        return problem("proof-malformed", "entry, links and checkpoint must be base64")
    entry, entry_problems = open_entry(entry_key(uc, seq), entry_raw, trust, uc, seq)
    problems.extend(entry_problems)
    checkpoint, cp_problems = open_checkpoint("checkpoint in proof", checkpoint_raw, trust, None)
    problems.extend(cp_problems)
    if entry is None or checkpoint is None:
        return EntryProofResult(tuple(problems), entry, checkpoint)
    head = checkpoint.head(uc)
    if head is None:
        return problem(
            "proof-checkpoint", f"checkpoint {checkpoint.sequence} does not cover use case {uc!r}"
        )
    if head.size != seq + 1 + len(links):
        return problem(
            "proof-head",
            f"checkpoint {checkpoint.sequence} records {head.size} entries; the proof links "
            f"entry {seq} through {len(links)} later entries to entry {seq + len(links)}",
        )
    expected = head.head
    for offset, payload in zip(range(len(links), 0, -1), reversed(links), strict=True):
        assert payload is not None
        at = seq + offset
        if payload_digest(payload) != expected:
            return problem("proof-link", f"link payload of entry {at} does not hash to {expected}")
        try:
            statement = Statement.model_validate(strict_json_loads(payload))
        except (ValueError, ValidationError) as e:
            return problem(
                "proof-link", f"link payload of entry {at} is malformed: {_first_error(e)}"
            )
        if statement.predicate.use_case != uc or statement.predicate.sequence != at:
            return problem(
                "proof-link",
                f"link payload is entry {statement.predicate.use_case}#{statement.predicate.sequence}, "
                f"expected {uc}#{at}",
            )
        expected = statement.predicate.previous or ""
    if entry.digest != expected:
        return problem(
            "proof-link",
            f"the chain links to {expected or 'nothing'}, not to this entry ({entry.digest})",
        )
    if (
        proof.tree_size != checkpoint.predicate.tree_size
        or proof.leaf_index != checkpoint.leaf_index(uc)
        or not verify_inclusion(
            head, proof.leaf_index, proof.tree_size, proof.inclusion, checkpoint.root
        )
    ):
        return problem(
            "proof-inclusion",
            f"the Merkle path does not lead from the head of {uc} to checkpoint "
            f"{checkpoint.sequence}'s root {checkpoint.root}",
        )
    return EntryProofResult(tuple(problems), entry, checkpoint)


def _b64(text: str) -> bytes | None:
    return b64decode_strict(text)
