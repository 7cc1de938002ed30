"""One ledger entry: verify the stored bytes first, then parse what was signed.

``open_entry`` is the single door from stored bytes to a trusted ``Entry``; each
problem it finds is a ``Violation`` naming the use case, the entry and the rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import ValidationError

from gates.canonical import strict_json_loads
from gates.errors import LedgerError, printable
from gates.ledger.statement import (
    PREDICATE_TYPE,
    EntryPredicate,
    Statement,
    binds_to,
    first_problem,
)
from gates.signing.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, parse_envelope
from gates.signing.trust import GATE_ROLE, TrustStore

CHAINS_PREFIX = "chains/"
ENTRY_SUFFIX = ".dsse.json"


def entry_key(usecase_id: str, sequence: int) -> str:
    return f"{CHAINS_PREFIX}{usecase_id}/{sequence:012d}{ENTRY_SUFFIX}"


def parse_entry_key(key: str) -> tuple[str, int] | None:
    """``chains/<id>/<seq>.dsse.json`` → (id, seq); None for anything else."""
    if not key.startswith(CHAINS_PREFIX) or not key.endswith(ENTRY_SUFFIX):
        return None
    parts = key[len(CHAINS_PREFIX) : -len(ENTRY_SUFFIX)].split("/")
    if len(parts) != 2 or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    return parts[0], int(parts[1])


@dataclass(frozen=True)
class Violation:
    usecase: str
    sequence: int | None
    rule: str
    message: str

    def __post_init__(self) -> None:
        # Messages quote untrusted bytes (key ids, field names); a lone surrogate smuggled
        # in through a JSON escape must not break the terminal or the page showing them.
        object.__setattr__(self, "usecase", printable(self.usecase))
        object.__setattr__(self, "message", printable(self.message))

    def __str__(self) -> str:
        where = f"{self.usecase}#{self.sequence}" if self.sequence is not None else self.usecase
        return f"{where}: [{self.rule}] {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "useCase": self.usecase,
            "sequence": self.sequence,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass(frozen=True)
class Entry:
    key: str
    envelope: Envelope
    statement: Statement
    #: ``sha256:<hex>`` of the signed payload bytes: what the next entry links to.
    digest: str
    signer_keyids: frozenset[str]

    @property
    def predicate(self) -> EntryPredicate:
        return self.statement.predicate

    @property
    def sequence(self) -> int:
        return self.predicate.sequence


def payload_digest(payload: bytes) -> str:
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def open_entry(
    key: str,
    raw: bytes,
    trust: TrustStore,
    usecase_id: str,
    sequence: int,
    *,
    signatures_known: bool = False,
) -> tuple[Entry | None, list[Violation]]:
    """Verify signature, signer role and subject binding of one stored entry, then parse it.

    ``signatures_known``: these exact bytes were verified before under this same trust,
    with every trusted signature on them valid (``gates.ledger.verified_heads``): the
    Ed25519 checks are skipped, everything else is checked again.
    """

    def v(rule: str, message: str) -> tuple[None, list[Violation]]:
        return None, [Violation(usecase_id, sequence, rule, message)]

    try:
        envelope = parse_envelope(raw, key)
    except LedgerError as e:
        return v("envelope-malformed", e.message)
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        return v(
            "envelope-malformed",
            f"payloadType {envelope.payload_type!r}; expected {IN_TOTO_PAYLOAD_TYPE}",
        )
    trusted = trust.by_keyid
    # Only the trusted keys the envelope names: the signature of a key it does not name
    # could not be on it.
    verified = (
        {s.keyid for s in envelope.signatures if s.keyid in trusted}
        if signatures_known
        else envelope.verified_keyids(
            trusted[s.keyid].public for s in envelope.signatures if s.keyid in trusted
        )
    )
    if not verified:
        claimed = ", ".join(trust.describe(s.keyid) for s in envelope.signatures)
        rule = (
            "signature-invalid"
            if any(s.keyid in trust.by_keyid for s in envelope.signatures)
            else "signer-untrusted"
        )
        return v(rule, f"no valid signature by a trusted key (signed by {claimed})")
    try:
        statement = Statement.model_validate(strict_json_loads(envelope.payload))
    except (ValueError, ValidationError) as e:
        return v(
            "payload-malformed",
            f"signed payload is not a {PREDICATE_TYPE} statement: {first_problem(e)}",
        )
    if statement.predicate.time.utcoffset() is None:
        # Times are compared along the chain; one without an offset cannot be ordered.
        return v("payload-malformed", "predicate.time has no UTC offset")
    problems: list[Violation] = []
    pred = statement.predicate
    if not binds_to(statement, usecase_id) or pred.use_case != usecase_id:
        problems.append(
            Violation(
                usecase_id,
                sequence,
                "subject-mismatch",
                f"entry is bound to use case {pred.use_case!r}, found in the chain of {usecase_id!r}",
            )
        )
    if pred.sequence != sequence:
        problems.append(
            Violation(
                usecase_id,
                sequence,
                "sequence-mismatch",
                f"entry says sequence {pred.sequence}, stored as {sequence}",
            )
        )
    signers = [trusted[k] for k in sorted(verified)]
    needed = pred.approval.role if pred.kind == "approval" and pred.approval else GATE_ROLE
    if all(s.revoked for s in signers):
        problems.append(
            Violation(
                usecase_id,
                sequence,
                "signer-revoked",
                f"signed only by revoked key(s): {', '.join(s.name for s in signers)}",
            )
        )
    elif not any(needed in s.roles and not s.revoked for s in signers):
        names = ", ".join(f"{s.name} (roles: {', '.join(sorted(s.roles))})" for s in signers)
        problems.append(
            Violation(
                usecase_id,
                sequence,
                "signer-role",
                f"{pred.kind} entry needs a signature with role {needed!r}; signed by {names}",
            )
        )
    entry = Entry(key, envelope, statement, payload_digest(envelope.payload), frozenset(verified))
    return entry, problems
