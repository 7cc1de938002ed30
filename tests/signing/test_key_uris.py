"""Key URIs and trusted keys as users meet them: ``--key``, ``keys list``, ``keys public``,
OpenSSH public keys in the trust list, and verification that loads no signer backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gates.engine.actions import register
from gates.errors import ConfigError, SigningError
from gates.ledger.entry import entry_key
from gates.signing.keys import load_public_key
from gates.signing.signers import key_argument_uri, load_signer, redacted
from gates.workspace.session import Session
from tests.support.cli import run
from tests.support.presets import ledger_world
from tests.support.world import T0


def ssh_keygen(path: Path, key_type: str = "ed25519") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "kim@laptop", "-f", str(path)],
        check=True,
    )
    return path.with_name(path.name + ".pub")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """The ledger world plus an approver whose trusted key is an OpenSSH .pub file."""
    root = tmp_path / "ws"
    ledger_world(root)
    pub = ssh_keygen(root / "keys" / "kim_ed25519")
    with (root / "stagegate.toml").open("a") as settings:
        settings.write(
            f'[[trusted_keys]]\nname = "kim"\npath = "{pub.relative_to(root)}"\n'
            'roles = ["operations_lead"]\n'
        )
    register(Session.open(root), "alpha", now=T0)
    return root


def test_keys_list_shows_each_trusted_keys_id_roles_and_format(ws: Path) -> None:
    result = run("--workspace", str(ws), "keys", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert {n: r["format"] for n, r in rows.items()} == {
        "gate": "pem",
        "dana": "pem",
        "lee": "pem",
        "kim": "openssh",
    }
    kim = load_public_key(ws / "keys" / "kim_ed25519.pub")
    assert rows["kim"]["keyid"] == kim.keyid and rows["kim"]["roles"] == ["operations_lead"]
    table = run("--workspace", str(ws), "keys", "list")
    assert "openssh" in table.stdout and "format" in table.stdout


def test_an_openssh_public_key_has_the_same_key_id_as_its_pem_form(tmp_path: Path) -> None:
    pub = ssh_keygen(tmp_path / "id_ed25519")
    from_ssh = load_public_key(pub)
    (tmp_path / "same.pem").write_bytes(from_ssh.pem())
    assert load_public_key(tmp_path / "same.pem").keyid == from_ssh.keyid


def test_an_rsa_openssh_trusted_key_is_a_config_error_naming_the_entry_and_the_type(
    ws: Path,
) -> None:
    rsa = ssh_keygen(ws / "keys" / "old_rsa", "rsa")
    with (ws / "stagegate.toml").open("a") as settings:
        settings.write(f'[[trusted_keys]]\nname = "old"\npath = "{rsa}"\nroles = ["sponsor"]\n')
    with pytest.raises(
        ConfigError, match=r"trusted_keys\.old: .*expected an Ed25519 public key, found ssh-rsa"
    ):
        _ = Session.open(ws).trust
    result = run("--workspace", str(ws), "audit", "verify")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "trusted_keys.old" in result.stderr


def test_approve_key_given_as_a_bare_path_is_a_pem_file_from_here_or_the_workspace(
    ws: Path, tmp_path: Path
) -> None:
    common = ["--role", "sponsor", "--json"]
    from_ws = run("--workspace", str(ws), "approve", "alpha", "--key", "keys/sponsor.pem", *common)
    assert from_ws.returncode == 0, from_ws.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mine.pem").write_bytes((ws / "keys" / "budget.pem").read_bytes())
    common = ["--role", "budget_owner", "--json"]
    here = run(
        "--workspace", str(ws), "approve", "alpha", "--key", "mine.pem", *common, cwd=elsewhere
    )
    assert here.returncode == 0, here.stderr
    assert (ws / "ledger" / entry_key("alpha", 2)).is_file()


def test_an_unknown_key_uri_scheme_is_one_message_listing_the_supported_ones(ws: Path) -> None:
    result = run(
        "--workspace",
        str(ws),
        "approve",
        "alpha",
        "--key",
        "vault:gate",
        "--role",
        "sponsor",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'vault:gate': unsupported key URI; expected one of file:, pkcs11:" in result.stderr


def test_load_signer_names_the_supported_schemes_for_an_unknown_one() -> None:
    with pytest.raises(SigningError, match=r"expected one of file:, pkcs11:, awskms:, ssh-agent:"):
        load_signer("gcpkms:projects/p/keys/k", Path("."))


def test_key_arguments_keep_signer_uris_and_turn_paths_into_file_uris() -> None:
    assert key_argument_uri("keys/me.pem") == "file:keys/me.pem"
    assert key_argument_uri("/home/me/.keys/me.pem") == "file:/home/me/.keys/me.pem"
    assert key_argument_uri("C:me.pem") == "file:C:me.pem"
    assert key_argument_uri("vault:gate") == "vault:gate"  # refused by load_signer, by name
    for uri in ("file:me.pem", "ssh-agent:SHA256:abc", "pkcs11:object=k", "awskms:alias/k"):
        assert key_argument_uri(uri) == uri


def test_a_pin_value_is_masked_wherever_a_key_uri_is_printed() -> None:
    uri = "pkcs11:token=t;object=k?pin-value=123456&module-path=/m.so"
    assert redacted(uri) == "pkcs11:token=t;object=k?pin-value=***&module-path=/m.so"


def test_keys_public_prints_the_public_key_and_id_of_a_pem_signer(ws: Path) -> None:
    result = run("keys", "public", str(ws / "keys" / "sponsor.pem"), "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    expected = load_public_key(ws / "keys" / "sponsor.pub")
    assert shown["keyid"] == expected.keyid and shown["pem"] == expected.pem().decode()
    out = ws / "keys" / "sponsor-again.pub"
    assert (
        run("keys", "public", str(ws / "keys" / "sponsor.pem"), "--out", str(out)).returncode == 0
    )
    assert load_public_key(out).keyid == expected.keyid
    again = run("keys", "public", str(ws / "keys" / "sponsor.pem"), "--out", str(out))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr


def test_verifying_and_listing_keys_load_no_signer_backend(ws: Path) -> None:
    settings = ws / "stagegate.toml"
    settings.write_text(
        settings.read_text().replace(
            'key = "file:keys/gate.pem"',
            'key = "pkcs11:token=gate;object=gate-key?module-path=/usr/lib/softhsm/libsofthsm2.so"',
        )
    )
    probe = (
        "import sys\n"
        "from gates.cli.app import app\n"
        "for args in (['status', '--json'], ['audit', 'verify'], ['keys', 'list']):\n"
        "    try:\n"
        "        app(['--workspace', sys.argv[1], *args], standalone_mode=False)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, (args, e.code)\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'pkcs11', 'paramiko', 'boto3'})\n"
        "print('BACKENDS=' + ','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ws)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "BACKENDS=\n" in result.stdout
