"""Real key holders for the signer tests: a SoftHSM2 token and an ssh-agent.

The token lives in a temporary folder (``SOFTHSM2_CONF``) for the whole session: a
PKCS#11 module reads its configuration once per process. The agent is started per test
on a socket in the test's own folder and stopped when the test ends.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gates.signing.pkcs11_signer import generate_token_key

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


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    if not Path(SOFTHSM2_MODULE).exists():
        pytest.fail(f"{SOFTHSM2_MODULE} missing: run `make system-packages` (Debian softhsm2)")
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOFTHSM2_CONF", str(conf))
        env.setenv(PIN_ENV, USER_PIN)
        subprocess.run(
            [*("softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL), *TOKEN_PINS],
            check=True,
            capture_output=True,
        )
        token = Token(conf, TOKEN_LABEL, "gate-key", "")
        public = generate_token_key(token.uri())
        yield Token(conf, TOKEN_LABEL, "gate-key", public.keyid)


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


@pytest.fixture
def ssh_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Agent]:
    """A real ssh-agent on a socket in the test's folder; SSH_AUTH_SOCK points at it."""
    folder = tmp_path / "ssh"
    folder.mkdir()
    socket = folder / "agent.sock"
    process = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ssh-agent did not start")
            time.sleep(0.02)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        yield Agent(socket, folder)
    finally:
        process.terminate()
        process.wait(timeout=10)
