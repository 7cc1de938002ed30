"""Where an entry's RFC 3161 timestamp token is kept: beside the entry, named by its bytes.

``chains/<id>/<seq>.<sha256 of the envelope>.tsr`` holds the TSA's reply for the entry
stored at ``chains/<id>/<seq>.dsse.json``. Named by the envelope's digest, two writers
racing for one sequence number write two different keys, so neither can fail or
overwrite the other's token (the loser's token stays behind, timestamping bytes that
were never stored, and proves nothing). Named with the sequence, it sorts beside its
entry, so verification streams each token right after the entry it belongs to, and
the ledger's own write permissions (``chains/*``) cover it.
"""

from __future__ import annotations

import hashlib

from gates.ledger.entry import CHAINS_PREFIX

TOKEN_SUFFIX = ".tsr"


def envelope_digest(envelope: bytes) -> str:
    """Hex SHA-256 of an entry's exact stored bytes: what its token must timestamp."""
    return hashlib.sha256(envelope).hexdigest()


def token_key(usecase_id: str, sequence: int, envelope: bytes) -> str:
    return f"{CHAINS_PREFIX}{usecase_id}/{sequence:012d}.{envelope_digest(envelope)}{TOKEN_SUFFIX}"


def parse_token_key(key: str) -> tuple[str, int, str] | None:
    """``chains/<id>/<seq>.<sha256>.tsr`` → (id, seq, hex digest); None for anything else."""
    if not key.startswith(CHAINS_PREFIX) or not key.endswith(TOKEN_SUFFIX):
        return None
    parts = key[len(CHAINS_PREFIX) : -len(TOKEN_SUFFIX)].split("/")
    if len(parts) != 2:
        return None
    sequence, dot, digest = parts[1].partition(".")
    if (
        not dot
        or len(sequence) != 12
        or not (sequence.isascii() and sequence.isdigit())
        or len(digest) != 64
        or digest.strip("0123456789abcdef")
    ):
        return None
    return parts[0], int(sequence), digest
