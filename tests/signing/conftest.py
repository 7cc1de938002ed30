"""Real key holders for the signer tests: a SoftHSM2 token and an ssh-agent.

The token lives in a temporary folder (``SOFTHSM2_CONF``) for the whole session: a
PKCS#11 module reads its configuration once per process. The agent is started per test
on a socket in the test's own folder and stopped when the test ends.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gates.signing.pkcs11_signer import generate_token_key
from gates.stack.lifetime import end_with_this_process
from tests.support.key_holders import (
    PIN_ENV,
    SOFTHSM2_MODULE,
    TOKEN_LABEL,
    TOKEN_PINS,
    USER_PIN,
    Agent,
    Token,
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


@pytest.fixture
def ssh_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Agent]:
    """A real ssh-agent on a socket in the test's folder; SSH_AUTH_SOCK points at it."""
    folder = tmp_path / "ssh"
    folder.mkdir()
    socket = folder / "agent.sock"
    process = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(socket)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=end_with_this_process(),  # gone with the tests, even when they are killed
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
