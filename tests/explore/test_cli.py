"""`stagegate explore` as users meet it: tables, JSON, the SVG file, exit codes, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from gates.workspace.session import Session
from tests.support.candidates import CANDIDATES, EXPECTED_ORDER, write_yaml

STAGEGATE = [sys.executable, "-m", "gates.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run(
        [*STAGEGATE, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_score_prints_the_ranking_table(explore_ws: Path) -> None:
    result = run("--workspace", str(explore_ws), "explore", "score")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "│" in line]
    assert [line.split("│")[2].strip() for line in lines] == EXPECTED_ORDER
    assert "quick win" in lines[0] and "100.0" in lines[0]
    assert "delta: held back by impact very high (very high impact is risky" in result.stdout


def test_score_json_has_the_documented_shape_and_writes_the_matrix(
    explore_ws: Path, tmp_path: Path
) -> None:
    out = tmp_path / "figures" / "matrix.svg"
    result = run("-w", str(explore_ws), "explore", "score", "--json", "--matrix", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [c["id"] for c in data["candidates"]] == EXPECTED_ORDER
    assert [c["rank"] for c in data["candidates"]] == [1, 2, 3, 4, 5]
    assert data["candidatesDigest"].startswith("sha256:") and data["matrix"] == str(out)
    assert data["candidates"][2]["criteria"]["impact"]["explanation"].startswith(
        "very high impact is risky"
    )
    root = ET.parse(out).getroot()
    assert all(c["id"] in "".join(root.itertext()) for c in data["candidates"])


def test_score_of_an_explicit_file_needs_no_workspace(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "elsewhere" / "c.yaml", CANDIDATES)
    result = run("explore", "score", str(path), "--json", cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["weights"]["impact"] == 0.25


def test_workspace_weights_apply_to_the_workspace_file(explore_ws: Path) -> None:
    settings = explore_ws / "stagegate.toml"
    settings.write_text(settings.read_text() + "\n[explore]\nweights = {impact = 0.5}\n")
    data = json.loads(run("-w", str(explore_ws), "explore", "score", "--json").stdout)
    assert data["weights"]["impact"] == 0.5


def test_a_bad_candidates_file_exits_2_with_one_message(explore_ws: Path) -> None:
    rows = [dict(c) for c in CANDIDATES[:2]]
    path = write_yaml(explore_ws / "explore" / "candidates.yaml", rows)
    result = run("-w", str(explore_ws), "explore", "score")
    assert result.returncode == 2
    assert str(path) in result.stderr and "at least 3 are needed" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_workspace_without_a_candidates_file_says_how_to_name_one(explore_ws: Path) -> None:
    (explore_ws / "explore" / "candidates.yaml").unlink()
    result = run("-w", str(explore_ws), "explore", "score")
    assert result.returncode == 2
    assert "no candidates file" in result.stderr and "explore.candidates" in result.stderr


def test_select_writes_verifiable_entries_and_audit_verify_stays_clean(explore_ws: Path) -> None:
    result = run("-w", str(explore_ws), "explore", "select", "alpha", "gamma", "--rationale",
                 "Medium impact and a clear metric", "--at", "2026-01-05T09:00:00Z", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(s["useCase"], s["rank"], s["sequence"]) for s in data["selected"]] == [
        ("alpha", 1, 0),
        ("gamma", 2, 0),
    ]
    assert data["selected"][1]["specWritten"].endswith("gamma.yaml")
    state = Session.open(explore_ws).ledger.state("gamma")
    assert state.history[0].predicate.selection is not None
    assert state.history[0].predicate.selection.rationale == "Medium impact and a clear metric"
    verify = run("-w", str(explore_ws), "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    log = run("-w", str(explore_ws), "audit", "log", "gamma")
    assert "selected 2 of 5" in log.stdout


def test_select_text_output_and_refusals(explore_ws: Path) -> None:
    ok = run("-w", str(explore_ws), "explore", "select", "alpha", "--rationale", "best start")
    assert ok.returncode == 0, ok.stderr
    assert "alpha selected (rank 1 of 5, score 100, quick win) and registered" in ok.stdout
    again = run("-w", str(explore_ws), "explore", "select", "alpha", "--rationale", "again")
    assert again.returncode == 2 and "already registered" in again.stderr
    three = run("-w", str(explore_ws), "explore", "select", "gamma", "delta", "zeta",
                "--rationale", "all of them")  # fmt: skip
    assert three.returncode == 2 and "--force" in three.stderr and "Traceback" not in three.stderr
    unknown = run("-w", str(explore_ws), "explore", "select", "omega", "--rationale", "x")
    assert (
        unknown.returncode == 2 and "'omega' is not among the scored candidates" in unknown.stderr
    )


def test_forced_selection_warns_on_stderr(explore_ws: Path) -> None:
    result = run("-w", str(explore_ws), "explore", "select", "gamma", "delta", "zeta",
                 "--rationale", "a wider start", "--force")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "3 use cases selected" in result.stderr


def test_the_cli_starts_without_loading_the_explore_package() -> None:
    probe = (
        "import sys, gates.cli.app; "
        "print(sorted(m for m in sys.modules if m.startswith(('gates.explore', 'pydantic', 'yaml'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
