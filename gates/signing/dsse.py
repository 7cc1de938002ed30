"""DSSE envelopes: sign exact payload bytes via PAE; verify before parsing.

Spec: https://github.com/secure-systems-lab/dsse (v1.0). The payload is never
re-serialised before verification: we verify the bytes we read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass

from gates.errors import LedgerError
from gates.signing.keys import PublicKey
from gates.signing.signers import Signer

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: what the signature actually covers."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json_bytes(self) -> bytes:
        doc = {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    def verified_keyids(self, keys: Iterable[PublicKey]) -> set[str]:
        """Key ids (among ``keys``) with a valid signature over this envelope's PAE."""
        by_id = {k.keyid: k for k in keys}
        message = pae(self.payload_type, self.payload)
        return {
            s.keyid
            for s in self.signatures
            if s.keyid in by_id and by_id[s.keyid].verify(s.sig, message)
        }


def sign_envelope(
    payload: bytes, signer: Signer, payload_type: str = IN_TOTO_PAYLOAD_TYPE
) -> Envelope:
    sig = signer.sign(pae(payload_type, payload))
    return Envelope(payload_type, payload, (Signature(signer.keyid, sig),))


def parse_envelope(data: bytes, where: str) -> Envelope:
    """Parse envelope JSON strictly; LedgerError naming ``where`` if truncated or malformed."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LedgerError(f"{where}: not a DSSE envelope (invalid JSON: {e})") from e
    if not isinstance(doc, dict) or set(doc) != {"payload", "payloadType", "signatures"}:
        raise LedgerError(
            f"{where}: not a DSSE envelope (expected payload, payloadType, signatures)"
        )
    payload_type, payload, signatures = doc["payloadType"], doc["payload"], doc["signatures"]
    if not isinstance(payload_type, str) or not isinstance(payload, str):
        raise LedgerError(f"{where}: DSSE payload and payloadType must be strings")
    if not isinstance(signatures, list) or not signatures:
        raise LedgerError(f"{where}: DSSE envelope has no signatures")
    try:
        sigs = tuple(
            Signature(keyid=str(s["keyid"]), sig=base64.b64decode(s["sig"], validate=True))
            for s in signatures
        )
        body = base64.b64decode(payload, validate=True)
    except (KeyError, TypeError, binascii.Error) as e:
        raise LedgerError(f"{where}: DSSE envelope has malformed base64 or signature fields") from e
    return Envelope(payload_type, body, sigs)
