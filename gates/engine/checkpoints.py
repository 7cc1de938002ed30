"""Writing a checkpoint: verify the whole ledger, then sign every chain head.

Beside the other writes of the ledger (``gates.engine.actions``); reading and checking
checkpoints lives in ``gates.ledger.checkpoint``.
"""

from __future__ import annotations

from datetime import datetime

from gates.canonical import canonical_json
from gates.errors import EntryExistsError, LedgerError
from gates.ledger.chain import Ledger
from gates.ledger.checkpoint import (
    CHECKPOINT_PREDICATE_TYPE,
    ChainHead,
    Checkpoint,
    CheckpointStatement,
    checkpoint_key,
    checkpoint_subject,
    open_checkpoint,
)
from gates.ledger.merkle import merkle_root
from gates.ledger.statement import STATEMENT_TYPE
from gates.ledger.verify import verify_ledger
from gates.signing.dsse import sign_envelope
from gates.signing.signers import Signer


def write_checkpoint(ledger: Ledger, signer: Signer, now: datetime | None = None) -> Checkpoint:
    """Verify the whole ledger, then sign its chain heads as the next checkpoint.

    Refuses (LedgerError, nothing written) when the ledger fails verification, since a
    checkpoint would vouch for the damage; when ``now`` is before the previous
    checkpoint; or when the signer is not a trusted ``gate`` key. Create-only: of two
    concurrent writers exactly one wins, the other gets EntryExistsError.
    """
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
