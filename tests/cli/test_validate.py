"""`stagegate validate` judges each use case by its current stage; errors apart from warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gates.ledger.entry import entry_key
from tests.support.cli import run
from tests.support.presets import ledger_world


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ledger_world(root)
    return root


def validate(ws: Path, *args: str) -> tuple[int, dict[str, list[str]]]:
    result = run("--workspace", str(ws), "validate", "--json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_a_new_explore_use_case_is_not_judged_by_later_stages(ws: Path) -> None:
    """It got 16-18 problems about Pilot and Production evidence and exit 2 before."""
    code, report = validate(ws)
    assert code == 0, report
    assert report["errors"] == [] and report["stages"] == {
        "alpha": "unregistered",
        "beta": "unregistered",
    }
    later = [w for w in report["warnings"] if "Pilot" in w or "Production" in w]
    assert later == []
    # The whole roadmap is still one flag away, as strict as before.
    code, everything = validate(ws, "--all-stages")
    assert code == 2 and everything["stages"] is None
    assert any("evidence.deliverables.pilot_report" in e for e in everything["errors"])


def test_what_the_current_gate_lacks_is_a_warning_and_a_dangling_name_an_error(ws: Path) -> None:
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    (ws / "docs" / "matrix.md").unlink()
    spec = ws / "usecases" / "beta.yaml"
    spec.write_text(
        spec.read_text().replace("    selection_rationale: docs/rationale.md\n", "")
        + "  pilot:\n    kpi: {name: handle time, baseline: 12, direction: lower,"
        " dataset: nowhere, column: minutes}\n"
    )
    code, report = validate(ws)
    assert code == 2
    assert report["stages"] == {"alpha": "explore", "beta": "unregistered"}
    assert any(
        "alpha.yaml: evidence.deliverables.priority_matrix: docs/matrix.md does not exist yet "
        "(required to leave Explore for PoC)" in w
        for w in report["warnings"]
    ), report
    assert any(
        "beta.yaml: evidence.deliverables.selection_rationale: required to leave Explore" in w
        for w in report["warnings"]
    ), report
    assert report["errors"] == [
        f"{ws.resolve()}/usecases/beta.yaml: evidence.pilot.kpi.dataset: names 'nowhere', "
        "which is not declared under evidence.datasets"
    ]
    human = run("--workspace", str(ws), "validate")
    assert "✗ error" in human.stdout and "! warning" in human.stdout
    assert "judged by the current stage: alpha (explore), beta (unregistered: explore)" in " ".join(
        human.stdout.split()
    )


def test_a_role_the_current_gate_needs_and_no_key_holds_is_an_error(ws: Path) -> None:
    settings = ws / "stagegate.toml"
    settings.write_text(
        settings.read_text().replace('roles = ["budget_owner"]', 'roles = ["budget_ownr"]')
    )
    code, report = validate(ws)
    assert code == 2
    assert any(
        "trusted_keys: no key may sign as 'budget_owner', which " in e
        and "needs to leave Explore for PoC; a key has the role 'budget_ownr': misspelt?" in e
        for e in report["errors"]
    ), report


def test_a_ledger_that_cannot_be_read_is_an_error_naming_the_use_case(ws: Path) -> None:
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    entry = ws / "ledger" / entry_key("alpha", 0)
    entry.write_bytes(entry.read_bytes().replace(b'"sig":"', b'"sig":"AAAA', 1))
    code, report = validate(ws)
    assert code == 2
    assert any(e.startswith("alpha: cannot read its ledger") for e in report["errors"]), report
    assert "alpha" not in report["stages"] and report["stages"]["beta"] == "unregistered"
