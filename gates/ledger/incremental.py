"""``audit verify --since-checkpoint``: the explicit incremental verification.

The newest sound checkpoint in the store (its signature, signer and Merkle root over
the chain heads verified by ``read_checkpoints``) is trusted for the entries it covers:
their signatures are not checked again. Everything else is: each covered entry is still
parsed and folded, so its links must lead, digest by digest, to the head the checkpoint
signed (a rewritten payload breaks them), and every entry after the checkpoint is
verified in full. Without a sound checkpoint the verification is a full one, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gates.ledger.chain import Ledger
from gates.ledger.checkpoint import Checkpoint, read_checkpoints
from gates.ledger.verified_heads import heads_from_checkpoint
from gates.ledger.verify import CheckpointSummary, VerificationReport, verify_ledger


@dataclass(frozen=True)
class VerifyMode:
    """Which verification ran, and what it took on trust."""

    name: Literal["full", "since-checkpoint"]
    #: Entries whose signatures were checked.
    verified: int
    #: Entries taken as the checkpoint recorded them (signatures not checked again).
    trusted: int = 0
    checkpoint: CheckpointSummary | None = None
    #: Why an incremental verification fell back to a full one, if it did.
    fallback: str = ""

    def describe(self) -> str:
        if self.checkpoint is None:
            why = f" ({self.fallback})" if self.fallback else ""
            return f"mode: full verification, every entry's signature checked{why}"
        c = self.checkpoint
        return (
            f"mode: since checkpoint #{c.sequence} ({c.time.isoformat()}, root {c.root}), "
            f"trusted after verifying its signature and Merkle root: {self.trusted} "
            f"entries it covers taken as it recorded them (links checked, signatures not), "
            f"{self.verified} entries verified in full"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "entriesVerified": self.verified,
            "entriesTrusted": self.trusted,
            "checkpoint": self.checkpoint.to_json() if self.checkpoint else None,
            "fallback": self.fallback or None,
        }


def newest_sound_checkpoint(ledger: Ledger) -> Checkpoint | None:
    newest: Checkpoint | None = None
    for read in read_checkpoints(ledger):
        found = read.checkpoint if read.sound else None
        if found is not None and (newest is None or found.sequence > newest.sequence):
            newest = found
    return newest


def full_mode(report: VerificationReport) -> VerifyMode:
    return VerifyMode("full", verified=report.entries)


def verify_since_checkpoint(
    ledger: Ledger, usecases: list[str] | None = None, *, pinned: Sequence[Checkpoint] = ()
) -> tuple[VerificationReport, VerifyMode]:
    """Verify only what the newest sound checkpoint does not vouch for (see the module)."""
    newest = newest_sound_checkpoint(ledger)
    if newest is None:
        report = verify_ledger(ledger, usecases, pinned=pinned)
        mode = VerifyMode(
            "full", verified=report.entries, fallback="no sound checkpoint to start from"
        )
        return report, mode
    heads = heads_from_checkpoint(
        ((h.use_case, h.size, h.head) for h in newest.heads), ledger.trust
    )
    report = verify_ledger(
        Ledger(ledger.store, ledger.trust, ledger.clock, ledger.timestamping, heads=heads),
        usecases,
        pinned=pinned,
    )
    mode = VerifyMode(
        "since-checkpoint",
        verified=heads.signatures_checked,
        trusted=heads.signatures_skipped,
        checkpoint=CheckpointSummary.of(newest),
    )
    return report, mode
