"""Signers chosen by URI scheme: ``file:`` PEM keys today, cloud KMS signers as plug-ins.

Verification never needs a signer, only public keys (``gates.signing.trust``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gates.errors import SigningError
from gates.signing.keys import key_id, load_private_key


class Signer(Protocol):
    @property
    def keyid(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519Signer:
    keyid: str
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    @classmethod
    def from_key(cls, key: Ed25519PrivateKey) -> Ed25519Signer:
        return cls(keyid=key_id(key.public_key()), private_key=key)


def _file_signer(location: str, base: Path) -> Signer:
    path = Path(location).expanduser()
    path = path if path.is_absolute() else base / path
    return Ed25519Signer.from_key(load_private_key(path))


#: Scheme → factory(location, base folder). A KMS signer registers itself here.
SIGNER_SCHEMES: dict[str, Callable[[str, Path], Signer]] = {"file": _file_signer}


def load_signer(uri: str, base: Path) -> Signer:
    """``file:keys/gate.pem`` (relative to ``base``) or ``file:///abs/gate.pem``."""
    scheme, sep, location = uri.partition(":")
    if not sep or scheme not in SIGNER_SCHEMES:
        known = ", ".join(f"{s}:" for s in sorted(SIGNER_SCHEMES))
        raise SigningError(f"signing key {uri!r}: unsupported key URI; expected one of {known}")
    if location.startswith("//"):
        location = location[2:]
    if not location:
        raise SigningError(f"signing key {uri!r}: no key location after {scheme}:")
    return SIGNER_SCHEMES[scheme](location, base)
