"""Ed25519 keys: generation, loading (PEM, or OpenSSH for public keys) and key ids.

A key id is the hex SHA-256 of the raw 32-byte public key (docs/adr/0003-key-ids.md):
derived from the key itself, so nobody can claim another key's id, whichever file format
or signer holds the key.

``cryptography``'s serialization package (PEM, DER, OpenSSH, PKCS#12 parsers) takes a
good share of a read-only command's start-up, and every trusted key is loaded on each
run; so a public key file written as ``keys generate`` writes it (one PEM block around
the fixed 44-byte Ed25519 SubjectPublicKeyInfo) is read here, and only other forms load
that package (``_plain_ed25519_pem``). And a ``PublicKey`` holds the key's raw bytes,
making ``cryptography``'s key object only when it is first used: a ``status`` whose
entries' signatures were all verified before (``gates.ledger.verified_heads``) never
loads ``cryptography`` at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gates.errors import SigningError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

#: How a public key file is written: PEM (SubjectPublicKeyInfo) or one OpenSSH line.
PublicKeyFormat = Literal["pem", "openssh"]

#: DER of an Ed25519 SubjectPublicKeyInfo up to the key (RFC 8410 §4): SEQUENCE {
#: SEQUENCE { OID 1.3.101.112 }, BIT STRING (no unused bits) of 32 bytes }.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")

#: One PEM public key block as PEM writers (OpenSSL, ``cryptography``) write it: lines of
#: base64, LF line ends, nothing before the block, at most one line end after it.
_PLAIN_PEM = re.compile(
    rb"-----BEGIN PUBLIC KEY-----\n((?:[A-Za-z0-9+/=]{1,76}\n){1,4})-----END PUBLIC KEY-----\n?"
)


def key_id(public_key: Ed25519PublicKey) -> str:
    return raw_key_id(public_key.public_bytes_raw())


def raw_key_id(raw: bytes) -> str:
    """The key id of the raw 32-byte public key ``raw``."""
    return hashlib.sha256(raw).hexdigest()


def _plain_ed25519_pem(data: bytes) -> bytes | None:
    """The raw key of a plain Ed25519 PEM public key file, or None for any other bytes.

    None is no verdict: the caller parses those bytes with ``cryptography``, which
    accepts every file this accepts, with the same key, and decides on all others."""
    match = _PLAIN_PEM.fullmatch(data)
    if match is None:
        return None
    try:
        der = base64.b64decode(match.group(1).replace(b"\n", b""), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(der) != len(_ED25519_SPKI_PREFIX) + 32 or not der.startswith(_ED25519_SPKI_PREFIX):
        return None
    return der[len(_ED25519_SPKI_PREFIX) :]


@dataclass(frozen=True)
class PublicKey:
    """A verification key with its id; ``verify`` returns a bool instead of raising.

    ``raw`` is the 32-byte Ed25519 public key (``PublicKey.of`` makes one from a key
    object); ``key``, ``cryptography``'s object for it, is made on first use."""

    keyid: str
    raw: bytes

    @classmethod
    def of(cls, key: Ed25519PublicKey) -> PublicKey:
        raw = key.public_bytes_raw()
        return cls(keyid=raw_key_id(raw), raw=raw)

    @cached_property
    def key(self) -> Ed25519PublicKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        return Ed25519PublicKey.from_public_bytes(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def public_key_from_raw(raw: bytes, where: str) -> PublicKey:
    """The key whose raw 32 bytes a token, KMS or agent handed us."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as e:
        raise SigningError(
            f"{where}: expected a 32-byte Ed25519 public key, got {len(raw)} bytes"
        ) from e
    return PublicKey.of(key)


def parse_public_key(data: bytes, where: str) -> tuple[PublicKey, PublicKeyFormat]:
    """A PEM public key, or an OpenSSH ``ssh-ed25519 AAAA... comment`` line (an
    approver's ``~/.ssh/id_ed25519.pub``), with the format it was written in."""
    fmt: PublicKeyFormat = "openssh" if data.lstrip().startswith(b"ssh-") else "pem"
    plain = _plain_ed25519_pem(data) if fmt == "pem" else None
    if plain is not None:
        return PublicKey(keyid=raw_key_id(plain), raw=plain), fmt
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key: object
    try:
        if fmt == "openssh":
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as e:
        expected = "an OpenSSH public key line" if fmt == "openssh" else "a PEM public key"
        raise SigningError(f"{where}: not {expected}") from e
    if not isinstance(key, Ed25519PublicKey):
        found = data.split(None, 1)[0].decode("ascii", "replace") if fmt == "openssh" else ""
        raise SigningError(
            f"{where}: expected an Ed25519 public key, found {found or type(key).__name__}"
        )
    return PublicKey.of(key), fmt


def load_public_key_file(path: Path) -> tuple[PublicKey, PublicKeyFormat]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SigningError(f"{path}: cannot read public key ({e.strerror})") from e
    return parse_public_key(data, str(path))


def load_public_key(path: Path) -> PublicKey:
    """A PEM or OpenSSH (``ssh-ed25519 ...``) Ed25519 public key file."""
    return load_public_key_file(path)[0]


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SigningError(f"{path}: cannot read signing key ({e.strerror})") from e
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise SigningError(f"{path}: not an unencrypted PEM private key") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: expected an Ed25519 private key, found {type(key).__name__}")
    return key


def generate_keypair(private_path: Path, public_path: Path | None = None) -> PublicKey:
    """Write a new Ed25519 key pair (private key mode 0600); refuse to overwrite."""
    public_path = public_path or private_path.with_suffix(".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise SigningError(f"{path}: already exists; refusing to overwrite a key")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = PublicKey.of(key.public_key())
    public_path.write_bytes(public.pem())
    return public
