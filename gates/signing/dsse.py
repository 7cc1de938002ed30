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
from typing import TypeGuard

from gates.canonical import json_text
from gates.errors import LedgerError
from gates.signing.keys import PublicKey
from gates.signing.signers import Signer

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

#: ``json.loads``'s own decoder, made once: envelopes are plain JSON (the payload inside
#: is read strictly, ``gates.canonical.strict_json_loads``).
_DECODER = json.JSONDecoder()


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
    """Parse envelope JSON strictly; LedgerError naming ``where`` if truncated or malformed.

    The bytes are untrusted (read from a store or a bundle): whatever they hold, the
    answer is an ``Envelope`` or a ``LedgerError``, never another exception.
    """
    try:
        # ``json.loads`` of bytes, without its per-call checks and encoding detection.
        doc = _DECODER.decode(json_text(data)) if isinstance(data, bytes) else json.loads(data)
    except RecursionError as e:
        raise LedgerError(f"{where}: not a DSSE envelope (JSON nested too deeply)") from e
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, integers past the limit
        raise LedgerError(f"{where}: not a DSSE envelope (invalid JSON: {e})") from e
    if not isinstance(doc, dict) or set(doc) != {"payload", "payloadType", "signatures"}:
        raise LedgerError(
            f"{where}: not a DSSE envelope (expected payload, payloadType, signatures)"
        )
    payload_type, payload, signatures = doc["payloadType"], doc["payload"], doc["signatures"]
    if not _utf8_text(payload_type) or not isinstance(payload, str):
        raise LedgerError(f"{where}: DSSE payload and payloadType must be strings")
    if not isinstance(signatures, list) or not signatures:
        raise LedgerError(f"{where}: DSSE envelope has no signatures")
    sigs: list[Signature] = []
    for number, item in enumerate(signatures):
        keyid = item.get("keyid") if isinstance(item, dict) else None
        sig = b64decode_strict(item.get("sig")) if isinstance(item, dict) else None
        if not _utf8_text(keyid) or sig is None:
            raise LedgerError(
                f"{where}: DSSE signature {number} needs a keyid (text) and a base64 sig"
            )
        sigs.append(Signature(keyid=keyid, sig=sig))
    body = b64decode_strict(payload)
    if body is None:
        raise LedgerError(f"{where}: DSSE payload is not base64")
    return Envelope(payload_type, body, tuple(sigs))


def b64decode_strict(text: object) -> bytes | None:
    """Standard base64 (RFC 4648 §4, padded) of untrusted text; None for anything else.

    ``base64.b64decode`` raises ``ValueError`` (not ``binascii.Error``) for a str with
    non-ASCII characters, and accepts non-str inputs: both are handled here, once.
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    try:
        # What ``base64.b64decode(text, validate=True)`` runs, without its wrapper.
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _utf8_text(value: object) -> TypeGuard[str]:
    """A str that encodes as UTF-8 (JSON escapes can smuggle in lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
