"""`stagegate init`: a new workspace that validates, names its schemas, and whose first
use case passes its Explore gate on the system clock once its deliverables exist."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jsonschema
import pytest

from gates.config_files import read_toml, read_yaml
from gates.schemas import (
    SETTINGS_SCHEMA_FILE,
    USECASE_SCHEMA_FILE,
    committed_bytes,
    committed_settings_schema,
    committed_usecase_schema,
)
from tests.cli.test_cli import run


def as_json(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def init(folder: Path, *args: str) -> Path:
    result = run("init", str(folder), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def write_explore_deliverables(root: Path) -> None:
    for name in ("candidate-list", "priority-matrix", "selection-rationale"):
        path = root / "docs" / "explore" / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")


def test_init_writes_settings_keys_templates_and_a_first_use_case_naming_the_schemas(
    tmp_path: Path,
) -> None:
    root = init(tmp_path / "gates")
    settings = (root / "stagegate.toml").read_text()
    assert settings.splitlines()[0] == "#:schema ./schemas/settings.schema.json"
    for spec in (root / "usecases" / "my-use-case.yaml", root / "templates" / "usecase.yaml"):
        first = spec.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/usecase.schema.json"
        jsonschema.validate(as_json(read_yaml(spec)), committed_usecase_schema())
    jsonschema.validate(as_json(read_toml(root / "stagegate.toml")), committed_settings_schema())
    for name in (SETTINGS_SCHEMA_FILE, USECASE_SCHEMA_FILE):
        assert (root / "schemas" / name).read_bytes() == committed_bytes(name)
    keys = json.loads(run("--workspace", str(root), "keys", "list", "--json").stdout)
    assert {k["name"]: k["roles"] for k in keys} == {
        "gate service": ["gate"],
        "Example Sponsor": ["sponsor"],
        "Example Budget Owner": ["budget_owner"],
        "Example Operations Lead": ["operations_lead"],
    }
    for private in (root / "keys").glob("*.pem"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert "keys/*.pem" in (root / ".gitignore").read_text().splitlines()


def test_a_new_workspace_validates_and_says_which_deliverables_to_write(tmp_path: Path) -> None:
    root = init(tmp_path / "gates")
    result = run("--workspace", str(root), "validate", "--json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert len(report["warnings"]) == 3
    assert all("docs/explore/" in w and "does not exist yet" in w for w in report["warnings"])


def test_the_first_use_case_reaches_poc_on_the_system_clock(tmp_path: Path) -> None:
    root = init(tmp_path / "gates", "--usecase", "invoice-triage")
    write_explore_deliverables(root)
    ws = ("--workspace", str(root))
    assert run(*ws, "register", "invoice-triage").returncode == 0
    for role, key in (("sponsor", "sponsor"), ("budget_owner", "budget-owner")):
        approved = run(*ws, "approve", "invoice-triage", "--role", role, "--key", f"keys/{key}.pem")
        assert approved.returncode == 0, approved.stderr
    promoted = run(*ws, "promote", "invoice-triage", "--to", "poc", "--in-process", "--json")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    gate = json.loads(promoted.stdout)
    assert gate["verdict"] == "pass" and gate["stage"] == "poc"
    assert {c["status"] for c in gate["checks"]} == {"pass"}
    verified = run(*ws, "audit", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["simulatedClock"] is False


def test_init_refuses_a_folder_with_content_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run("init", str(tmp_path))
    assert result.returncode == 2
    assert "not empty" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_example_has_evidence_for_every_stage(tmp_path: Path) -> None:
    root = init(tmp_path / "gates", "--example")
    result = run("--workspace", str(root), "validate", "--all-stages", "--json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert (report["errors"], report["warnings"]) == ([], [])
    dry = run("--workspace", str(root), "next", "support-assistant", "--json")
    failing = {c["check"] for c in json.loads(dry.stdout)["checks"] if c["status"] != "pass"}
    assert failing == {"approval:sponsor", "approval:budget_owner"}


@pytest.mark.parametrize("usecase", ["Bad Id", "../escape"])
def test_init_refuses_a_use_case_id_that_is_no_id(tmp_path: Path, usecase: str) -> None:
    result = run("init", str(tmp_path / "gates"), "--usecase", usecase)
    assert result.returncode == 2 and "--usecase" in result.stderr
    assert not (tmp_path / "gates").exists()


def test_keys_generate_prints_the_block_that_makes_the_key_trusted(tmp_path: Path) -> None:
    root = init(tmp_path / "gates")
    ws = ("--workspace", str(root))
    made = run(*ws, "keys", "generate", str(root / "keys" / "ravi.pem"), "--name", "Ravi Shah",
               "--role", "sponsor")  # fmt: skip
    assert made.returncode == 0, made.stderr
    block = made.stdout[made.stdout.index("[[trusted_keys]]") :]
    assert (
        block
        == '[[trusted_keys]]\nname = "Ravi Shah"\npath = "keys/ravi.pub"\nroles = ["sponsor"]\n'
    )
    settings = root / "stagegate.toml"
    settings.write_text(settings.read_text() + "\n" + block)
    keys = json.loads(run(*ws, "keys", "list", "--json").stdout)
    assert {"name": "Ravi Shah", "roles": ["sponsor"]}.items() <= next(
        k for k in keys if k["name"] == "Ravi Shah"
    ).items()

    unnamed = run(*ws, "keys", "generate", str(root / "keys" / "kim.pem"))
    block = unnamed.stdout[unnamed.stdout.index("[[trusted_keys]]") :]
    assert 'name = "kim"' in block and "roles = []  # fill in:" in block
    settings.write_text(settings.read_text() + "\n" + block)
    refused = run(*ws, "validate")
    assert refused.returncode == 2
    assert "trusted_keys.5.roles: must have at least 1 item(s), found 0" in refused.stdout
