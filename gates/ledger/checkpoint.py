"""Signed checkpoints over every chain's head, so that truncation and rollback show.

A chain alone cannot tell that its newest entries were deleted, or that it was rolled
back and grown again: what is left still links and verifies. A checkpoint is a signed
statement of every chain's size and head digest at one moment, with an RFC 6962 Merkle
tree over those heads (``gates.ledger.merkle``). Verification then demands that today's chains *extend* every
past checkpoint: at least as many entries, and at position ``size - 1`` exactly the
digest recorded. The Merkle root lets one chain's head be shown to belong to a
checkpoint without the other heads (an inclusion proof), and ``gates.ledger.proof`` links
one entry to that head, so a single entry can be proven to an outside party offline.
This module reads and checks checkpoints; ``gates.engine.checkpoints`` writes them.

Checkpoints form their own chain (``sequence`` and ``previous``) in the ledger's store,
at ``checkpoints/<sequence, 12 digits>.dsse.json``, written create-only and signed by a
``gate`` key. Format decisions: docs/adr/0005-checkpoints-and-bundles.md.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, Field, ValidationError

from gates.canonical import canonical_json, strict_json_loads
from gates.errors import LedgerError
from gates.ledger.entry import Violation, payload_digest
from gates.ledger.merkle import merkle_root
from gates.ledger.statement import Subject, WireModel, first_problem
from gates.signing.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    Envelope,
    parse_envelope,
)
from gates.signing.trust import GATE_ROLE, TrustStore

if TYPE_CHECKING:
    from gates.ledger.chain import Ledger

CHECKPOINT_PREDICATE_TYPE = "https://stagegate.dev/checkpoint/v1"
CHECKPOINT_SUBJECT = "stagegate:checkpoint"
CHECKPOINTS_PREFIX = "checkpoints/"
CHECKPOINT_SUFFIX = ".dsse.json"
#: The name violations of the checkpoint chain itself are filed under. It cannot be a
#: use-case id (those are lower-case letters, digits and '-').
CHECKPOINTS = "@checkpoints"

_DIGEST = r"^sha256:[0-9a-f]{64}$"
_HEX = r"^[0-9a-f]{64}$"


class ChainHead(WireModel):
    """One Merkle leaf: a chain's size (entries) and the digest of its head payload."""

    use_case: str = Field(alias="useCase", min_length=1)
    size: int = Field(ge=1)
    head: str = Field(pattern=_DIGEST)

    def leaf(self) -> bytes:
        return canonical_json(self.model_dump(by_alias=True))


class CheckpointPredicate(WireModel):
    sequence: int = Field(ge=0)
    previous: str | None = Field(pattern=_DIGEST)
    time: AwareDatetime
    tree_size: int = Field(alias="treeSize", ge=0)
    root: str = Field(pattern=_DIGEST)
    heads: list[ChainHead]


class CheckpointStatement(WireModel):
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
            f"signed payload is not a {CHECKPOINT_PREDICATE_TYPE} statement: {first_problem(e)}",
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
