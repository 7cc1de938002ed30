"""Check one stored RFC 3161 timestamp token offline, as untrusted bytes.

A token vouches that the TSA saw a digest at ``genTime``. It counts for an entry only if
it parses, was granted, is signed by the pinned TSA certificate chaining to the
configured root (valid at ``genTime``), and its message imprint is the SHA-256 of the
entry's exact envelope bytes. Every failure is a value naming what is wrong, never an
exception: the bytes come from the store or a bundle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gates.clock import iso, span

if TYPE_CHECKING:  # X.509 loads only where a TSA is configured (``gates.tsa.chain``)
    from gates.tsa.chain import TsaChain

SHA256_OID = "2.16.840.1.101.3.4.2.1"


@dataclass(frozen=True)
class TokenCheck:
    """What one token proves: ``gen_time`` when sound, else the rule it breaks and why."""

    gen_time: datetime | None
    rule: str | None = None
    problem: str = ""

    @property
    def sound(self) -> bool:
        return self.rule is None


def check_token(
    token: bytes, envelope: bytes, chain: TsaChain, *, nonce: int | None = None
) -> TokenCheck:
    """Whether ``token`` is a valid timestamp of exactly ``envelope`` by ``chain``'s TSA."""
    from rfc3161_client import PKIStatus, VerificationError, decode_timestamp_response

    digest = hashlib.sha256(envelope).digest()
    # The parser and verifier are native code fed untrusted bytes: whatever they raise
    # means "not a valid token", never a crash of the verifier.
    try:
        response = decode_timestamp_response(token)
        if response.status != PKIStatus.GRANTED:
            return TokenCheck(
                None,
                "timestamp-invalid",
                f"the TSA did not grant it (status {response.status})",
            )
        info = response.tst_info
        imprint = info.message_imprint
        gen_time = info.gen_time
    except Exception as e:
        return TokenCheck(
            None, "timestamp-invalid", f"not an RFC 3161 timestamp response ({_short(str(e))})"
        )
    if imprint.hash_algorithm.dotted_string != SHA256_OID or imprint.message != digest:
        return TokenCheck(
            gen_time,
            "timestamp-mismatch",
            f"it timestamps {imprint.message.hex()[:16]}…, not this entry's envelope "
            f"(sha256 {digest.hex()[:16]}…): a token of other bytes",
        )
    try:
        chain.verifier(nonce).verify(response, digest)
    except VerificationError as e:
        return TokenCheck(
            gen_time, "timestamp-invalid", f"{_short(str(e))} (against {chain.source})"
        )
    except Exception as e:
        return TokenCheck(gen_time, "timestamp-invalid", f"cannot be verified: {_short(str(e))}")
    return TokenCheck(gen_time)


def time_disagreement(gen_time: datetime, entry_time: datetime, tolerance: timedelta) -> str:
    """Why the TSA's time and the entry's disagree beyond ``tolerance``; empty if they agree."""
    skew = entry_time - gen_time
    if abs(skew) <= tolerance:
        return ""
    direction = "after" if skew > timedelta(0) else "before"
    return (
        f"the entry says {iso(entry_time)}, {span(abs(skew))} {direction} the TSA's "
        f"genTime {iso(gen_time)} (tolerance {tolerance.total_seconds():g} s)"
    )


def _short(text: str) -> str:
    # OpenSSL's error stacks run to many lines of internals; the first part says it.
    first = text.split(": ErrorStack(")[0].strip()
    return first if len(first) <= 160 else first[:159] + "…"
