"""Ed25519 signing by a key held in ssh-agent (``SSH_AUTH_SOCK``), through paramiko.

The key most engineers already have: an approver signs with ``~/.ssh/id_ed25519``
without the private key ever leaving the agent, and hands in the matching ``.pub`` as
their trusted key. An ``ssh-ed25519`` agent signature is an SSH signature blob
(string "ssh-ed25519", string sig) around a plain Ed25519 signature of the exact bytes
asked for; we unwrap it, so the envelope carries the plain signature our verifier and
any DSSE verifier accept.

URI: ``ssh-agent:SHA256:<fingerprint>`` (as ``ssh-keygen -lf`` or ``ssh-add -l`` print
it), ``ssh-agent:<comment>``, or ``ssh-agent:`` when the agent holds one Ed25519 key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from gates.errors import SigningError
from gates.signing.keys import PublicKey, public_key_from_raw

SCHEME = "ssh-agent"
KEY_TYPE = "ssh-ed25519"


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob (unpadded base64)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _paramiko() -> Any:
    try:
        import paramiko
    except ImportError as e:
        raise SigningError(
            "ssh-agent: keys need paramiko: install stagegate[ssh]", hint=str(e)
        ) from e
    return paramiko


def _raw_public_key(blob: bytes, where: str) -> PublicKey:
    msg = _paramiko().Message(blob)
    if msg.get_text() != KEY_TYPE:
        raise SigningError(f"{where}: not an {KEY_TYPE} key")
    return public_key_from_raw(msg.get_binary(), where)


@dataclass(frozen=True)
class SshAgentSigner:
    """Signs through ssh-agent with the Ed25519 key the URI selects."""

    uri: str
    public: PublicKey
    agent_key: Any = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def keyid(self) -> str:
        return self.public.keyid

    @classmethod
    def open(cls, selector: str) -> SshAgentSigner:
        uri = f"{SCHEME}:{selector}"
        socket_path = os.environ.get("SSH_AUTH_SOCK", "")
        if not socket_path:
            raise SigningError(
                f"signing key {uri}: SSH_AUTH_SOCK is not set: no ssh-agent to ask",
                hint="start one (eval $(ssh-agent)) and ssh-add your Ed25519 key",
            )
        if not os.path.exists(socket_path):
            raise SigningError(f"signing key {uri}: no ssh-agent at {socket_path} (SSH_AUTH_SOCK)")
        paramiko = _paramiko()
        try:
            agent = paramiko.Agent()
        except paramiko.SSHException as e:
            raise SigningError(f"signing key {uri}: the agent at {socket_path}: {e}") from e
        keys = [k for k in agent.get_keys() if k.get_name() == KEY_TYPE]
        chosen = _select(uri, selector, keys, socket_path)
        public = _raw_public_key(chosen.asbytes(), f"signing key {uri}")
        return cls(uri, public, chosen)

    def sign(self, message: bytes) -> bytes:
        paramiko = _paramiko()
        try:
            with self._lock:  # one agent connection: requests and answers must not interleave
                blob = bytes(self.agent_key.sign_ssh_data(message))
        except (paramiko.SSHException, OSError) as e:
            raise SigningError(f"signing key {self.uri}: the agent did not sign ({e})") from e
        answer = paramiko.Message(blob)
        try:
            algorithm, signature = str(answer.get_text()), bytes(answer.get_binary())
        except (UnicodeDecodeError, ValueError) as e:
            raise SigningError(f"signing key {self.uri}: the agent's answer is malformed") from e
        if algorithm != KEY_TYPE or not self.public.verify(signature, message):
            raise SigningError(
                f"signing key {self.uri}: the agent's signature ({algorithm}) does not verify "
                "as Ed25519 under the key's public key"
            )
        return signature


def _select(uri: str, selector: str, keys: list[Any], socket_path: str) -> Any:
    if selector.startswith("SHA256:"):
        matches = [k for k in keys if fingerprint(k.asbytes()) == selector]
        what = f"fingerprint {selector}"
    elif selector:
        matches = [k for k in keys if k.comment == selector]
        what = f"comment {selector!r}"
    else:
        matches = keys
        what = "no selector"
    held = ", ".join(f"{fingerprint(k.asbytes())} {k.comment}".strip() for k in keys) or "none"
    if not matches:
        raise SigningError(
            f"signing key {uri}: no Ed25519 key with {what} in the agent at {socket_path} "
            f"(Ed25519 keys held: {held})"
        )
    if len(matches) > 1:
        raise SigningError(
            f"signing key {uri}: {len(matches)} Ed25519 keys match ({what}); name one by "
            f"its fingerprint: {held}"
        )
    return matches[0]
