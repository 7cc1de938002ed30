"""Auditor commands as users meet them: checkpoint, prove, export, verify --bundle/--proof.

Exit codes: 0 intact, 1 integrity violation found (named by use case, entry and rule),
2 error. A bundle never vouches for its own keys unless the auditor says so.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gates.ledger.entry import entry_key
from tests.support.cli import run
from tests.support.presets import registered_ledger_world


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """alpha: registration + sponsor approval; beta: registration."""
    return registered_ledger_world(tmp_path / "ws").root


def audit(ws: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run("--workspace", str(ws), "audit", *args, cwd=cwd)


def checkpointed(ws: Path) -> None:
    result = audit(ws, "checkpoint", "--at", "2026-01-06T09:00:00Z", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sequence"] == 0


def test_checkpoint_is_written_and_verify_reports_it(ws: Path) -> None:
    checkpointed(ws)
    assert (ws / "ledger" / "checkpoints" / "000000000000.dsse.json").is_file()
    result = audit(ws, "verify", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["intact"] and report["entries"] == 3
    assert report["checkpoints"]["verified"] == 1
    assert report["checkpoints"]["latest"]["treeSize"] == 2
    human = audit(ws, "verify")
    assert human.returncode == 0 and "checked against 1 checkpoint(s)" in human.stdout


def test_deleting_the_newest_entry_after_a_checkpoint_exits_1_naming_entry_and_rule(
    ws: Path,
) -> None:
    checkpointed(ws)
    (ws / "ledger" / entry_key("alpha", 1)).unlink()
    result = audit(ws, "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "alpha#1: [checkpoint-truncated]" in result.stdout
    as_json = json.loads(audit(ws, "verify", "--json").stdout)
    assert [(v["useCase"], v["sequence"], v["rule"]) for v in as_json["violations"]] == [
        ("alpha", 1, "checkpoint-truncated")
    ]


def test_checkpointing_a_tampered_ledger_exits_2_and_writes_nothing(ws: Path) -> None:
    (ws / "ledger" / entry_key("alpha", 0)).unlink()
    result = audit(ws, "checkpoint")
    assert result.returncode == 2
    assert "refusing to checkpoint" in result.stderr and "Traceback" not in result.stderr
    assert not (ws / "ledger" / "checkpoints").exists()


def test_a_pinned_checkpoint_deleted_from_the_store_exits_1(ws: Path, tmp_path: Path) -> None:
    checkpointed(ws)
    stored = ws / "ledger" / "checkpoints" / "000000000000.dsse.json"
    kept = tmp_path / "kept.dsse.json"
    shutil.copy(stored, kept)
    assert audit(ws, "verify", "--checkpoint", str(kept)).returncode == 0
    stored.unlink()
    result = audit(ws, "verify", "--checkpoint", str(kept))
    assert result.returncode == 1
    assert "@checkpoints#0: [checkpoint-missing]" in result.stdout


def test_prove_writes_a_proof_that_verifies_offline(ws: Path, tmp_path: Path) -> None:
    checkpointed(ws)
    proof = tmp_path / "alpha-0.proof.json"
    result = audit(ws, "prove", "alpha#0", "--out", str(proof), "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["verified"] and shown["checkpoint"]["sequence"] == 0
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    trust = ["--trust", str(ws / "stagegate.toml")]
    offline = run("audit", "verify", "--proof", str(proof), *trust, cwd=elsewhere)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "alpha#0 is included in checkpoint 0" in offline.stdout

    doc = json.loads(proof.read_text())
    link = bytearray(base64.b64decode(doc["links"][0]))
    link[20] ^= 1
    doc["links"][0] = base64.b64encode(bytes(link)).decode()
    proof.write_text(json.dumps(doc))
    broken = run("audit", "verify", "--proof", str(proof), *trust, cwd=elsewhere)
    assert broken.returncode == 1
    assert "alpha#0: [proof-link]" in broken.stdout


def test_prove_without_a_covering_checkpoint_exits_2_saying_what_to_do(ws: Path) -> None:
    result = audit(ws, "prove", "alpha#1")
    assert result.returncode == 2
    assert "no checkpoint covers alpha#1" in result.stderr and "audit checkpoint" in result.stderr
    bad = audit(ws, "prove", "alpha")
    assert bad.returncode == 2 and "USECASE#SEQUENCE" in bad.stderr


def test_export_then_verify_the_bundle_with_the_store_gone(ws: Path, tmp_path: Path) -> None:
    checkpointed(ws)
    bundle = tmp_path / "alpha.bundle.json"
    result = audit(ws, "export", "alpha", "--out", str(bundle))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 entries of alpha" in result.stdout and "report: intact" in result.stdout
    shutil.rmtree(ws / "ledger")
    offline = audit(ws, "verify", "--bundle", str(bundle), "--json")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    report = json.loads(offline.stdout)
    assert report["intact"] and report["entries"] == 2
    assert report["bundle"]["useCase"] == "alpha"
    assert report["bundle"]["trust"] == f"keys from {ws.resolve() / 'stagegate.toml'}"
    assert not (ws / "ledger").exists()  # verified without opening the store


def test_a_bundle_outside_a_workspace_needs_an_explicit_trust_decision(
    ws: Path, tmp_path: Path
) -> None:
    checkpointed(ws)
    bundle = tmp_path / "alpha.bundle.json"
    assert audit(ws, "export", "alpha", "--out", str(bundle)).returncode == 0
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    refused = run("audit", "verify", "--bundle", str(bundle), cwd=elsewhere)
    assert refused.returncode == 2
    assert "cannot vouch for itself" in refused.stderr and "--trust" in refused.stderr
    own = run("audit", "verify", "--bundle", str(bundle), "--trust-bundle-keys", cwd=elsewhere)
    assert own.returncode == 0, own.stdout + own.stderr
    assert "not that its keys are genuine" in own.stdout
    trusted = run("audit", "verify", "--bundle", str(bundle), "--trust", str(ws), cwd=elsewhere)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    both = run(
        "audit", "verify", "--bundle", str(bundle), "--trust", str(ws), "--trust-bundle-keys",
        cwd=elsewhere,
    )  # fmt: skip
    assert both.returncode == 2


def test_a_tampered_bundle_exits_1_naming_entry_and_rule(ws: Path, tmp_path: Path) -> None:
    checkpointed(ws)
    bundle = tmp_path / "alpha.bundle.json"
    assert audit(ws, "export", "alpha", "--out", str(bundle)).returncode == 0
    doc = json.loads(bundle.read_text())
    doc["entries"].pop()
    bundle.write_text(json.dumps(doc))
    result = audit(ws, "verify", "--bundle", str(bundle))
    assert result.returncode == 1
    assert "alpha#1: [checkpoint-truncated]" in result.stdout
    wrong = audit(ws, "verify", "beta", "--bundle", str(bundle))
    assert wrong.returncode == 2 and "holds use case 'alpha'" in wrong.stderr
    bundle.write_text("[]")
    malformed = audit(ws, "verify", "--bundle", str(bundle))
    assert malformed.returncode == 2 and "Traceback" not in malformed.stderr


def test_export_of_a_tampered_chain_still_writes_the_bundle_and_exits_1(
    ws: Path, tmp_path: Path
) -> None:
    checkpointed(ws)
    (ws / "ledger" / entry_key("alpha", 1)).unlink()
    bundle = tmp_path / "alpha.bundle.json"
    result = audit(ws, "export", "alpha", "--out", str(bundle))
    assert result.returncode == 1
    assert "alpha#1: [checkpoint-truncated]" in result.stdout
    assert json.loads(bundle.read_text())["report"]["intact"] is False


def test_new_auditor_commands_import_no_prefect_mlflow_or_great_expectations(
    ws: Path, tmp_path: Path
) -> None:
    bundle, proof = tmp_path / "b.json", tmp_path / "p.json"
    probe = (
        "import sys\n"
        "from gates.cli.app import app\n"
        "ws, bundle, proof = sys.argv[1:4]\n"
        "for args in (['audit', 'checkpoint'], ['audit', 'prove', 'alpha#0', '--out', proof],\n"
        "             ['audit', 'export', 'alpha', '--out', bundle],\n"
        "             ['audit', 'verify', '--bundle', bundle], ['audit', 'verify', '--proof', proof]):\n"
        "    try:\n"
        "        code = app(['--workspace', ws, *args], standalone_mode=False)\n"
        "    except SystemExit as e:\n"
        "        code = e.code\n"
        "    print('EXIT', args[1], code)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'mlflow', 'great_expectations'})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ws), str(bundle), str(proof)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout
    assert bundle.is_file() and proof.is_file()
    exits = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("EXIT")]
    assert exits == [
        ["checkpoint", "None"],
        ["prove", "None"],
        ["export", "0"],
        ["verify", "0"],
        ["verify", "0"],
    ], result.stdout + result.stderr
