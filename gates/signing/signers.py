"""Signers chosen by key URI: ``file:`` PEM keys, ``pkcs11:`` tokens, ``awskms:`` keys
and ``ssh-agent:`` keys (docs/adr/0006-signer-uris.md).

Every signer produces a plain Ed25519 signature over the bytes it is given, and its key
id is ours (SHA-256 of the raw public key), whichever backend holds the key. Backends
are imported only when their scheme is used, so commands that only verify stay fast.
Verification never needs a signer, only public keys (``gates.signing.trust``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gates.errors import SigningError
from gates.signing.keys import PublicKey, key_id, load_private_key

if TYPE_CHECKING:  # cryptography loads when a key is, not when verifying needs no signer
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class Signer(Protocol):
    @property
    def keyid(self) -> str: ...

    @property
    def public(self) -> PublicKey: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519Signer:
    keyid: str
    private_key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.keyid, self.private_key.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    @classmethod
    def from_key(cls, key: Ed25519PrivateKey) -> Ed25519Signer:
        return cls(keyid=key_id(key.public_key()), private_key=key)


def _file_signer(location: str, base: Path) -> Signer:
    if location.startswith("//"):
        location = location[2:]
    if not location:
        raise SigningError("signing key 'file:': no key file after file:")
    path = Path(location).expanduser()
    path = path if path.is_absolute() else base / path
    return Ed25519Signer.from_key(load_private_key(path))


def _pkcs11_signer(location: str, base: Path) -> Signer:
    from gates.signing.pkcs11_signer import Pkcs11Signer

    return Pkcs11Signer.open(f"pkcs11:{location}")


def _awskms_signer(location: str, base: Path) -> Signer:
    from gates.signing.awskms_signer import AwsKmsSigner

    return AwsKmsSigner.open(f"awskms:{location}")


def _ssh_agent_signer(location: str, base: Path) -> Signer:
    from gates.signing.ssh_agent_signer import SshAgentSigner

    return SshAgentSigner.open(location)


#: Scheme → factory(location after the colon, base folder for relative paths).
SIGNER_SCHEMES: dict[str, Callable[[str, Path], Signer]] = {
    "file": _file_signer,
    "pkcs11": _pkcs11_signer,
    "awskms": _awskms_signer,
    "ssh-agent": _ssh_agent_signer,
}

#: A URI scheme (RFC 3986), at least two letters so a drive letter is not one.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]+):")


def redacted(uri: str) -> str:
    """A key URI as it may be printed: a PKCS#11 ``pin-value`` is masked."""
    return re.sub(r"(pin-value=)[^&]*", r"\1***", uri)


def load_signer(uri: str, base: Path) -> Signer:
    """A signer for ``uri``: ``file:keys/gate.pem`` (relative to ``base``),
    ``file:///abs/gate.pem``, ``pkcs11:...``, ``awskms:...`` or ``ssh-agent:...``."""
    match = _SCHEME.match(uri)
    if not match or match.group(1) not in SIGNER_SCHEMES:
        known = ", ".join(f"{s}:" for s in SIGNER_SCHEMES)
        raise SigningError(
            f"signing key {redacted(uri)!r}: unsupported key URI; expected one of {known}"
        )
    scheme = match.group(1)
    return SIGNER_SCHEMES[scheme](uri[len(scheme) + 1 :], base)


def key_argument_uri(value: str) -> str:
    """A ``--key`` argument as a key URI: a PEM file's path, or a signer URI as given.

    Something that looks like a URI of an unknown scheme (``vault:gate``) stays a URI, so
    the error lists the schemes there are, unless a file of that name exists here.
    """
    match = _SCHEME.match(value)
    if match and (match.group(1) in SIGNER_SCHEMES or not Path(value).expanduser().exists()):
        return value
    return f"file:{value}"
