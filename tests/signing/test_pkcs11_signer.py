"""The gate key in a PKCS#11 token: a real SoftHSM2 token with an Ed25519 key made on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gates.engine.actions import approve, promote, register
from gates.errors import SigningError
from gates.ledger.entry import entry_key
from gates.signing.dsse import pae, parse_envelope
from gates.signing.keys import load_public_key
from gates.signing.pkcs11_signer import generate_token_key
from gates.signing.pkcs11_uri import parse_pkcs11_uri
from gates.signing.signers import load_signer
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.key_holders import PIN_ENV, SOFTHSM2_MODULE, USER_PIN, Token
from tests.support.presets import ledger_world
from tests.support.world import T0

STAGEGATE = [sys.executable, "-m", "gates.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run(
        [*STAGEGATE, *args],
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        timeout=120,
    )


def token_workspace(root: Path, token: Token, key_uri: str | None = None) -> Path:
    """The ledger test world, with the gate key on the token instead of in keys/gate.pem."""
    ledger_world(root)
    pem = run("keys", "public", token.uri(), "--out", str(root / "keys" / "token-gate.pub"))
    assert pem.returncode == 0, pem.stderr
    settings = root / "stagegate.toml"
    text = settings.read_text()
    assert 'key = "file:keys/gate.pem"' in text and 'path = "keys/gate.pub"' in text
    text = text.replace('key = "file:keys/gate.pem"', f'key = "{key_uri or token.uri()}"')
    settings.write_text(text.replace('path = "keys/gate.pub"', 'path = "keys/token-gate.pub"'))
    (root / "keys" / "gate.pem").unlink()  # nothing on disk can sign as the gate
    return root


def test_a_whole_promotion_signed_in_the_token_verifies_with_audit_verify(
    softhsm_token: Token, tmp_path: Path
) -> None:
    root = token_workspace(tmp_path / "ws", softhsm_token)
    session = Session.open(root)
    register(session, "alpha", now=T0)
    for key, role in (("sponsor", "sponsor"), ("budget", "budget_owner")):
        signer = load_signer(f"file:keys/{key}.pem", root)
        approve(session, "alpha", signer, role=role, now=T0.replace(day=14))
    outcome = promote(session, "alpha", Stage.POC, now=T0.replace(day=15))
    assert outcome.promoted, [r for r in outcome.evaluation.results if r.status.value != "pass"]

    gate = parse_envelope((root / "ledger" / entry_key("alpha", 3)).read_bytes(), "gate entry")
    assert [s.keyid for s in gate.signatures] == [softhsm_token.keyid]
    # A plain Ed25519 verification with the exported public key accepts the token's signature.
    public = load_public_key(root / "keys" / "token-gate.pub")
    assert public.verify(gate.signatures[0].sig, pae(gate.payload_type, gate.payload))

    verified = run("--workspace", str(root), "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["intact"] is True and report["entries"] == 4


def test_promote_with_a_wrong_pin_exits_2_naming_the_pin_source_and_writes_nothing(
    softhsm_token: Token, tmp_path: Path
) -> None:
    root = token_workspace(tmp_path / "ws", softhsm_token)
    register(Session.open(root), "alpha", now=T0)
    result = run(
        "--workspace",
        str(root),
        "promote",
        "alpha",
        "--to",
        "poc",
        "--in-process",
        env={PIN_ENV: "0000"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"pin-source=env:{PIN_ENV}: pin-source: wrong PIN (from env:{PIN_ENV})" in result.stderr
    assert not (root / "ledger" / entry_key("alpha", 1)).exists()


@pytest.mark.parametrize(
    ("change", "part", "problem"),
    [
        (lambda t: t.uri("no-such-key"), "object", "no public key with this object"),
        (
            lambda t: t.uri().replace(SOFTHSM2_MODULE, "/nonexistent/libpkcs11.so"),
            "module-path",
            "cannot load the PKCS#11 module /nonexistent/libpkcs11.so",
        ),
        (lambda t: t.uri().replace("token=stagegate", "token=other"), "token", "no token"),
        (
            lambda t: t.uri(query="pin-value=1111"),
            "pin-value",
            "wrong PIN (given in the URI) for token 'stagegate'",
        ),
        (
            lambda t: t.uri(query="pin-source=env:STAGEGATE_TEST_UNSET_PIN"),
            "pin-source",
            "environment variable STAGEGATE_TEST_UNSET_PIN is not set",
        ),
    ],
    ids=["missing-object", "missing-module", "missing-token", "wrong-pin", "unset-pin-variable"],
)
def test_a_token_that_cannot_sign_is_one_signing_error_naming_the_uri_part(
    softhsm_token: Token, change: object, part: str, problem: str
) -> None:
    uri = change(softhsm_token)  # type: ignore[operator]
    with pytest.raises(SigningError) as caught:
        load_signer(uri, Path("."))
    message = caught.value.diagnostics()
    assert f": {part}: {problem}" in message
    assert message.startswith("signing key pkcs11:")
    assert "1111" not in message  # a PIN in the URI is never printed


def test_a_missing_object_through_the_cli_is_one_message_without_traceback(
    softhsm_token: Token, tmp_path: Path
) -> None:
    root = token_workspace(tmp_path / "ws", softhsm_token, key_uri=softhsm_token.uri("gone"))
    result = run("--workspace", str(root), "register", "alpha")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "object=gone" in result.stderr and "object: no public key" in result.stderr


def test_the_pin_can_come_from_the_default_environment_variable(
    softhsm_token: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEGATE_PKCS11_PIN", USER_PIN)
    signer = load_signer(softhsm_token.uri(query=""), Path("."))
    assert signer.keyid == softhsm_token.keyid
    assert signer.public.verify(signer.sign(b"entry"), b"entry")


def test_without_any_pin_the_private_key_is_not_found_and_the_message_says_why(
    softhsm_token: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STAGEGATE_PKCS11_PIN", raising=False)
    with pytest.raises(SigningError, match=r"no private key .* \(no PIN given"):
        load_signer(softhsm_token.uri(query=""), Path("."))


def test_keys_generate_makes_an_ed25519_key_on_the_token_and_refuses_an_existing_label(
    softhsm_token: Token, tmp_path: Path
) -> None:
    uri = softhsm_token.uri("approver-key")
    made = run("keys", "generate", uri, "--public", str(tmp_path / "approver.pub"), "--json")
    assert made.returncode == 0, made.stderr
    keyid = json.loads(made.stdout)["keyid"]
    assert load_public_key(tmp_path / "approver.pub").keyid == keyid
    signer = load_signer(uri, tmp_path)
    assert signer.keyid == keyid and signer.public.verify(signer.sign(b"m"), b"m")

    again = run("keys", "generate", uri)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "already on the token" in again.stderr
    with pytest.raises(SigningError, match="already on the token"):
        generate_token_key(softhsm_token.uri())  # the gate key is never shadowed


def test_signatures_over_large_entries_verify(softhsm_token: Token) -> None:
    signer = load_signer(softhsm_token.uri(), Path("."))
    message = os.urandom(256 * 1024)
    assert signer.public.verify(signer.sign(message), message)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("pkcs11:object=k", "no PKCS#11 module named"),
        ("pkcs11:token=t?module-path=/m.so", "names no key"),
        ("pkcs11:token=t;object=k;slot-id=1?module-path=/m.so", "slot-id: not a supported path"),
        ("pkcs11:token=t;object=k?module-name=softhsm2", "module-name: not a supported query"),
        ("pkcs11:token=t;object=k;object=j?module-path=/m.so", "object: given twice"),
        ("pkcs11:token=t;object=k;type=public?module-path=/m.so", "a signer needs type=private"),
        ("pkcs11:object=k?module-path=/m.so&pin-value=1&pin-source=env:P", "not both"),
        ("pkcs11:object=k?module-path=/m.so&pin-source=keyring:x", "expected env:VARIABLE"),
    ],
)
def test_malformed_pkcs11_uris_are_refused_naming_the_attribute(
    uri: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STAGEGATE_PKCS11_MODULE", raising=False)
    with pytest.raises(SigningError, match=expected):
        parsed = parse_pkcs11_uri(uri)
        parsed.module()
        parsed.pin()


def test_pkcs11_uri_values_are_percent_decoded() -> None:
    uri = parse_pkcs11_uri(
        "pkcs11:token=gate%20service;object=gate%2Fkey;id=%01%A0?module-path=/opt/p%2011.so"
    )
    assert (uri.token, uri.object, uri.id, uri.module_path) == (
        "gate service",
        "gate/key",
        b"\x01\xa0",
        "/opt/p 11.so",
    )
