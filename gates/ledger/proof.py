"""Proofs an outside party checks offline: a chain head's inclusion in a signed checkpoint,
and one entry's link to that head.

``prove_entry`` bundles the entry, the links from it to the head the checkpoint
recorded, the checkpoint and the Merkle audit path; ``verify_entry_proof`` checks all
of it with public keys only.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError

from gates.canonical import strict_json_loads
from gates.errors import LedgerError
from gates.ledger.checkpoint import (
    ChainHead,
    Checkpoint,
    open_checkpoint,
)
from gates.ledger.entry import Entry, Violation, entry_key, open_entry, payload_digest
from gates.ledger.merkle import merkle_path, root_from_path
from gates.ledger.statement import Statement, WireModel, first_problem
from gates.signing.dsse import b64decode_strict, parse_envelope
from gates.signing.trust import TrustStore

if TYPE_CHECKING:
    from gates.ledger.chain import Ledger

ENTRY_PROOF_TYPE: Literal["https://stagegate.dev/entry-proof/v1"] = (
    "https://stagegate.dev/entry-proof/v1"
)


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


class EntryProof(WireModel):
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
                "proof-link", f"link payload of entry {at} is malformed: {first_problem(e)}"
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
