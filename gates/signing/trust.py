"""The keys an auditor trusts, with the roles each may sign for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gates.errors import ConfigError, SigningError
from gates.signing.keys import PublicKey, PublicKeyFormat, load_public_key_file

GATE_ROLE = "gate"


class TrustedKey(Protocol):
    """One ``[[trusted_keys]]`` entry as the settings file (or an auditor's file) holds it."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def roles(self) -> Sequence[str]: ...

    @property
    def revoked(self) -> bool: ...


@dataclass(frozen=True)
class TrustedSigner:
    name: str
    roles: frozenset[str]
    revoked: bool
    public: PublicKey
    #: How the trusted key's file is written (``keys list`` shows it).
    format: PublicKeyFormat = "pem"


@dataclass(frozen=True)
class TrustStore:
    by_keyid: dict[str, TrustedSigner]

    @classmethod
    def load(
        cls, keys: Sequence[TrustedKey], base: Path, *, source: str = "stagegate.toml"
    ) -> TrustStore:
        signers: dict[str, TrustedSigner] = {}
        for entry in keys:
            path = Path(entry.path).expanduser()
            try:
                public, fmt = load_public_key_file(path if path.is_absolute() else base / path)
            except SigningError as e:
                raise ConfigError(source, [f"trusted_keys.{entry.name}: {e.message}"]) from e
            if public.keyid in signers:
                raise ConfigError(source, [f"trusted_keys.{entry.name}: same key listed twice"])
            signers[public.keyid] = TrustedSigner(
                entry.name, frozenset(entry.roles), entry.revoked, public, fmt
            )
        return cls(signers)

    def active_keys(self) -> list[PublicKey]:
        return [s.public for s in self.by_keyid.values() if not s.revoked]

    def describe(self, keyid: str) -> str:
        signer = self.by_keyid.get(keyid)
        return f"{signer.name} ({keyid[:12]})" if signer else f"unknown key {keyid[:12]}"
