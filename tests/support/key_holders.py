"""Real key holders for the signer tests: a SoftHSM2 token's key URIs and an ssh-agent."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's softhsm2 package puts the module (``make system-packages`` installs it).
SOFTHSM2_MODULE = os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL = "stagegate"
USER_PIN = "2468"
PIN_ENV = "STAGEGATE_TEST_TOKEN_PIN"
TOKEN_PINS = ("--so-pin", "13579", "--pin", USER_PIN)


@dataclass(frozen=True)
class Token:
    """A SoftHSM2 token holding an Ed25519 gate key generated on it."""

    conf: Path
    label: str
    key_label: str
    keyid: str

    def uri(self, obj: str | None = None, *, query: str | None = None) -> str:
        """A key URI; the PIN comes from an environment variable, as in a settings file."""
        tail = query if query is not None else f"pin-source=env:{PIN_ENV}"
        return (
            f"pkcs11:token={self.label};object={obj or self.key_label}"
            f"?module-path={SOFTHSM2_MODULE}&{tail}"
        )


@dataclass(frozen=True)
class Agent:
    socket: Path
    folder: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "SSH_AUTH_SOCK": str(self.socket)}

    def add_new_key(self, name: str, *, key_type: str = "ed25519", comment: str = "") -> Path:
        """Generate a key with ssh-keygen and load it into the agent; returns its .pub."""
        path = self.folder / name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment or name, "-f", str(path)],
            check=True,
        )
        subprocess.run(
            ["ssh-add", "-q", str(path)], check=True, env=self.env(), capture_output=True
        )
        return path.with_name(f"{name}.pub")


def fingerprint_of(pub: Path) -> str:
    """The SHA256 fingerprint as ssh-keygen prints it."""
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True, text=True
    )
    return out.stdout.split()[1]
