"""The command line as users meet it: exit codes, JSON shapes, one clear message per error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gates.engine.actions import approve
from gates.ledger.entry import entry_key
from gates.signing.signers import load_signer
from gates.workspace.session import Session
from tests.support.cli import run
from tests.support.presets import ledger_world, registered_ledger_world
from tests.support.world import T0


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return registered_ledger_world(tmp_path / "ws").root


def test_status_json_lists_every_use_case_with_id_and_stage(ws: Path) -> None:
    result = run("--workspace", str(ws), "status", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["id"], r["stage"]) for r in rows] == [("alpha", "explore"), ("beta", "explore")]
    assert all(r["plannedDays"] == 14 for r in rows)


def test_workspace_is_found_from_the_current_directory(ws: Path) -> None:
    result = run("status", "--json", cwd=ws / "docs")
    assert result.returncode == 0, result.stderr
    assert {r["id"] for r in json.loads(result.stdout)} == {"alpha", "beta"}


def test_audit_verify_exits_0_on_an_intact_ledger_and_1_naming_a_tampered_entry(ws: Path) -> None:
    clean = run("--workspace", str(ws), "audit", "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "intact" in clean.stdout
    path = ws / "ledger" / entry_key("alpha", 1)
    path.write_bytes(path.read_bytes().replace(b'"sig":"', b'"sig":"AAAA', 1))
    tampered = run("--workspace", str(ws), "audit", "verify", "--json")
    assert tampered.returncode == 1
    report = json.loads(tampered.stdout)
    assert report["intact"] is False
    assert {(v["useCase"], v["sequence"]) for v in report["violations"]} >= {("alpha", 1)}


def test_skipping_a_stage_exits_2_with_one_message_and_writes_nothing(ws: Path) -> None:
    result = run("--workspace", str(ws), "promote", "alpha", "--to", "production", "--in-process")
    assert result.returncode == 2
    assert "one at a time" in result.stderr and "Traceback" not in result.stderr
    assert not (ws / "ledger" / entry_key("alpha", 2)).exists()


def test_in_process_and_local_flow_together_are_refused(ws: Path) -> None:
    result = run(
        "--workspace", str(ws), "promote", "alpha", "--to", "poc", "--in-process", "--local-flow"
    )
    assert result.returncode == 2
    assert "--in-process/--local-flow" in result.stderr and "Traceback" not in result.stderr
    assert not (ws / "ledger" / entry_key("alpha", 2)).exists()


def test_unknown_stage_name_is_a_clear_error(ws: Path) -> None:
    result = run("--workspace", str(ws), "promote", "alpha", "--to", "prod", "--in-process")
    assert result.returncode == 2
    assert "--to" in result.stderr and "unknown stage 'prod'" in result.stderr


def test_malformed_spec_names_file_and_field(ws: Path) -> None:
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(
        spec.read_text().replace("department: support", "department: support\nbudgetz: 3")
    )
    result = run("--workspace", str(ws), "validate")
    assert result.returncode == 2
    assert "alpha.yaml" in result.stdout and "budgetz: unknown field" in result.stdout
    status = run("--workspace", str(ws), "status")
    assert (
        status.returncode == 2 and "budgetz" in status.stderr and "Traceback" not in status.stderr
    )


def test_broken_yaml_and_wrong_types_are_reported_without_traceback(ws: Path) -> None:
    (ws / "usecases" / "beta.yaml").write_text("id: beta\ntitle: [unclosed\n")
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(spec.read_text().replace("poc: 5000", "poc: lots"))
    result = run("--workspace", str(ws), "validate", "--json")
    assert result.returncode == 2
    problems = json.loads(result.stdout)["problems"]
    assert any("beta.yaml" in p and "not valid YAML" in p for p in problems)
    assert any("alpha.yaml" in p and "budgets.poc" in p for p in problems)


def test_duplicate_yaml_keys_are_refused_not_silently_merged(ws: Path) -> None:
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(spec.read_text() + "budgets: {poc: 1}\n")
    result = run("--workspace", str(ws), "validate")
    assert result.returncode == 2
    assert "alpha.yaml" in result.stdout and "duplicate key 'budgets'" in result.stdout


def test_bad_settings_file_is_named(ws: Path) -> None:
    (ws / "stagegate.toml").write_text("[store\nuri=1")
    result = run("--workspace", str(ws), "audit", "verify")
    assert result.returncode == 2
    assert "stagegate.toml" in result.stderr and "TOML" in result.stderr


def test_missing_workspace_says_how_to_get_one(tmp_path: Path) -> None:
    result = run("status", cwd=tmp_path)
    assert result.returncode == 2
    assert "stagegate.toml" in result.stderr and "stagegate demo" in result.stderr


def test_audit_log_and_show_read_the_history(ws: Path) -> None:
    log = run("--workspace", str(ws), "audit", "log", "alpha", "--json")
    assert log.returncode == 0, log.stderr
    entries = json.loads(log.stdout)["entries"]
    assert [e["kind"] for e in entries] == ["registration", "approval"]
    assert entries[1]["signedBy"] == ["dana"]
    show = run("--workspace", str(ws), "audit", "show", "alpha#1", "--json")
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["statement"]["predicate"]["approval"]["role"] == "sponsor"
    bad = run("--workspace", str(ws), "audit", "show", "../../etc#1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_auditor_commands_import_no_prefect_mlflow_or_great_expectations(ws: Path) -> None:
    probe = (
        "import sys\n"
        "from gates.cli.app import app\n"
        "for args in (['status', '--json'], ['audit', 'verify'], ['audit', 'log', 'alpha']):\n"
        "    try:\n"
        "        app(['--workspace', sys.argv[1], *args], standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'mlflow', 'great_expectations'})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ws)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout


def test_promote_with_mlflow_unreachable_exits_2_and_records_no_pass(ws: Path) -> None:
    session = Session.open(ws)
    approve(
        session,
        "alpha",
        load_signer("file:keys/budget.pem", ws),
        role="budget_owner",
        now=T0,
    )
    first = run(
        "--workspace",
        str(ws),
        "promote",
        "alpha",
        "--to",
        "poc",
        "--in-process",
        "--at",
        "2026-01-15T09:00:00Z",
    )
    assert first.returncode == 0, first.stdout + first.stderr
    settings = ws / "stagegate.toml"
    settings.write_text(settings.read_text() + '\n[mlflow]\ntracking_uri = "http://127.0.0.1:9"\n')
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(
        spec.read_text().replace(
            "evidence:\n", "evidence:\n  metrics:\n    poc: {experiment: alpha-poc}\n"
        )
    )
    result = run(
        "--workspace", str(ws), "promote", "alpha", "--to", "pilot", "--in-process", "--json"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    gate = json.loads(result.stdout)
    assert gate["verdict"] == "error" and gate["stage"] == "poc"
    metric = next(c for c in gate["checks"] if c["check"] == "metric:accuracy")
    assert metric["status"] == "error" and "127.0.0.1:9" in metric["reason"]
    status = json.loads(run("--workspace", str(ws), "status", "alpha", "--json").stdout)
    assert status[0]["stage"] == "poc"


def test_missing_required_option_is_a_usage_error_without_traceback(ws: Path) -> None:
    result = run("--workspace", str(ws), "approve", "alpha")
    assert result.returncode == 2
    assert "Missing option '--role'" in result.stderr and "Traceback" not in result.stderr


def test_error_messages_keep_bracketed_text(tmp_path: Path) -> None:
    root = ledger_world(tmp_path / "ws").root
    result = run("--workspace", str(root), "promote", "alpha", "--to", "[poc]", "--in-process")
    assert result.returncode == 2
    assert "'[poc]'" in result.stderr and "Traceback" not in result.stderr
