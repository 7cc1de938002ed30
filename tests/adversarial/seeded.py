"""The suite's one seed, and workspace keys derived from it (so every run is the same)."""

from __future__ import annotations

import fcntl
import hashlib
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gates.signing.keys import PublicKey, key_id

SEED = 20260105


def seeded_keys(root: Path) -> None:
    """Replace the workspace's random keys with keys derived from ``SEED``.

    Ed25519 signatures are deterministic, so with fixed keys and a simulated clock the
    world's bytes, and therefore every mutation of them, are the same on every run.
    """
    for name in ("gate", "sponsor", "budget", "outsider"):
        seed = hashlib.sha256(f"{SEED}:{name}".encode()).digest()
        key = Ed25519PrivateKey.from_private_bytes(seed)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (root / "keys" / f"{name}.pem").write_bytes(pem)
        public = PublicKey(keyid=key_id(key.public_key()), key=key.public_key())
        (root / "keys" / f"{name}.pub").write_bytes(public.pem())


def cases(count: int, salt: int) -> Iterator[tuple[int, random.Random]]:
    """``count`` cases of one family, each with its own generator: case N replays alone."""
    for number in range(count):
        yield number, random.Random(SEED * 1_000_003 + salt * 10_007 + number)


@contextmanager
def fixed_folder(name: str) -> Iterator[Path]:
    """An empty folder at the same path on every run, removed afterwards.

    Signed gate entries record absolute evidence paths, so a world built in a fresh
    temporary folder would differ, byte for byte, from run to run. Two runs on one
    machine take turns on an exclusive lock.
    """
    base = Path(tempfile.gettempdir()) / name
    with (base.parent / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir()
        try:
            yield base
        finally:
            shutil.rmtree(base, ignore_errors=True)
