"""Ed25519 keys: generation, PEM loading and key ids.

A key id is the hex SHA-256 of the raw 32-byte public key (docs/adr/0003-key-ids.md):
derived from the key itself, so nobody can claim another key's id.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gates.errors import SigningError


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class PublicKey:
    """A verification key with its id; ``verify`` returns a bool instead of raising."""

    keyid: str
    key: Ed25519PublicKey

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def load_public_key(path: Path) -> PublicKey:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SigningError(f"{path}: cannot read public key ({e.strerror})") from e
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as e:
        raise SigningError(f"{path}: not a PEM public key") from e
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: expected an Ed25519 public key, found {type(key).__name__}")
    return PublicKey(keyid=key_id(key), key=key)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SigningError(f"{path}: cannot read signing key ({e.strerror})") from e
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
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = PublicKey(keyid=key_id(key.public_key()), key=key.public_key())
    public_path.write_bytes(public.pem())
    return public
