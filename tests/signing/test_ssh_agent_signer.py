"""Approvers sign with the Ed25519 key their ssh-agent holds; a real agent in each test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gates.engine.actions import register
from gates.errors import SigningError
from gates.ledger.entry import entry_key
from gates.signing.dsse import pae, parse_envelope
from gates.signing.keys import load_public_key
from gates.signing.signers import load_signer
from gates.workspace.session import Session
from tests.support.key_holders import Agent, fingerprint_of
from tests.support.presets import ledger_world
from tests.support.world import T0

STAGEGATE = [sys.executable, "-m", "gates.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run([*STAGEGATE, *args], capture_output=True, text=True, env=env, timeout=120)


def trust_ssh_key(root: Path, name: str, pub: Path, role: str) -> None:
    """List an approver's OpenSSH public key file, as handed in, as a trusted key."""
    with (root / "stagegate.toml").open("a") as settings:
        settings.write(f'[[trusted_keys]]\nname = "{name}"\npath = "{pub}"\nroles = ["{role}"]\n')


def test_an_approval_signed_through_ssh_agent_verifies_against_the_openssh_public_key(
    ssh_agent: Agent, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    ledger_world(root)
    register(Session.open(root), "alpha", now=T0)
    pub = ssh_agent.add_new_key("id_ed25519", comment="kim@laptop")
    trust_ssh_key(root, "kim", pub, "operations_lead")

    result = run(
        "--workspace",
        str(root),
        "approve",
        "alpha",
        "--role",
        "operations_lead",
        "--key",
        f"ssh-agent:{fingerprint_of(pub)}",
        "--json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["sequence"] == 1

    envelope = parse_envelope((root / "ledger" / entry_key("alpha", 1)).read_bytes(), "approval")
    trusted = load_public_key(pub)
    assert [s.keyid for s in envelope.signatures] == [trusted.keyid]
    # The envelope carries the plain Ed25519 signature, not the SSH signature blob.
    assert len(envelope.signatures[0].sig) == 64
    assert trusted.verify(envelope.signatures[0].sig, pae(envelope.payload_type, envelope.payload))

    verified = run("--workspace", str(root), "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["intact"] is True


def test_an_ssh_agent_key_is_selected_by_fingerprint_comment_or_as_the_only_one(
    ssh_agent: Agent,
) -> None:
    pub = ssh_agent.add_new_key("dana", comment="dana@laptop")
    ssh_agent.add_new_key("legacy", key_type="rsa", comment="legacy-rsa")  # never chosen
    expected = load_public_key(pub).keyid
    for selector in (fingerprint_of(pub), "dana@laptop", ""):
        signer = load_signer(f"ssh-agent:{selector}", Path("."))
        assert signer.keyid == expected
        assert signer.public.verify(signer.sign(b"approval"), b"approval")


def test_an_ambiguous_or_unknown_ssh_agent_selector_names_the_keys_the_agent_holds(
    ssh_agent: Agent,
) -> None:
    first = ssh_agent.add_new_key("one", comment="shared")
    ssh_agent.add_new_key("two", comment="shared")
    with pytest.raises(SigningError, match="2 Ed25519 keys match") as ambiguous:
        load_signer("ssh-agent:shared", Path("."))
    assert fingerprint_of(first) in ambiguous.value.message
    with pytest.raises(SigningError, match="2 Ed25519 keys match"):
        load_signer("ssh-agent:", Path("."))
    with pytest.raises(SigningError, match="no Ed25519 key with comment 'nobody'") as unknown:
        load_signer("ssh-agent:nobody", Path("."))
    assert fingerprint_of(first) in unknown.value.message


def test_an_rsa_key_in_the_agent_cannot_be_chosen(ssh_agent: Agent) -> None:
    pub = ssh_agent.add_new_key("rsa", key_type="rsa", comment="rsa-only")
    with pytest.raises(SigningError, match="no Ed25519 key with fingerprint"):
        load_signer(f"ssh-agent:{fingerprint_of(pub)}", Path("."))


def test_approve_without_an_agent_exits_2_with_one_message(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ledger_world(root)
    register(Session.open(root), "alpha", now=T0)
    env = {k: v for k, v in os.environ.items() if k not in ("STAGEGATE_WORKSPACE", "SSH_AUTH_SOCK")}
    args = ["approve", "alpha", "--role", "sponsor", "--key", "ssh-agent:"]
    result = subprocess.run(
        [*STAGEGATE, "--workspace", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "SSH_AUTH_SOCK is not set" in result.stderr
    gone = {**env, "SSH_AUTH_SOCK": str(tmp_path / "no-agent.sock")}
    result = subprocess.run(
        [*STAGEGATE, "--workspace", str(root), *args],
        capture_output=True,
        text=True,
        env=gone,
        timeout=120,
    )
    assert result.returncode == 2 and "no ssh-agent at" in result.stderr
    assert not (root / "ledger" / entry_key("alpha", 1)).exists()
