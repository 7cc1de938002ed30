"""Risks reach the people who act on them: `stagegate status` and the audit report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from gates.engine.actions import register
from gates.engine.status import usecase_status
from gates.ledger.replay import ChainState
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.presets import SPEC, ledger_world
from tests.support.world import T0

STAGEGATE = [sys.executable, "-m", "gates.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    env["COLUMNS"] = "400"  # wide enough that no table cell wraps
    return subprocess.run([*STAGEGATE, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """alpha is safe in Explore; gamma has one sponsor; delta has a spec but is unregistered."""
    root = ledger_world(tmp_path / "ws").root
    lonely = SPEC.format(id="gamma", title="Gamma").replace(
        "sponsors: [{name: Dana Park, title: COO}, {name: Lee Moreau, title: CFO}]",
        "sponsors: [{name: Kim Sun, title: CTO}]",
    )
    (root / "usecases" / "gamma.yaml").write_text(lonely)
    (root / "usecases" / "delta.yaml").write_text(
        SPEC.format(id="delta", title="Delta").replace(
            "sponsors: [{name: Dana Park, title: COO}, {name: Lee Moreau, title: CFO}]",
            "sponsors: []",
        )
    )
    session = Session.open(root)
    for uc in ("alpha", "beta", "gamma"):
        register(session, uc, now=T0)
    return root


def test_status_json_lists_risks_and_keeps_every_existing_key(ws: Path) -> None:
    result = run("--workspace", str(ws), "status", "--json", "--at", "2026-01-06T09:00:00Z")
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["alpha"]["risks"] == [] and rows["alpha"]["riskError"] is None
    assert rows["gamma"]["risks"] == [
        {
            "id": "single-sponsor",
            "title": "Single sponsor",
            "detail": "1 sponsor (Kim Sun)",
            "mitigation": rows["gamma"]["risks"][0]["mitigation"],
        }
    ]
    assert rows["delta"]["stage"] == "unregistered"
    assert [r["id"] for r in rows["delta"]["risks"]] == ["single-sponsor"]
    for key in ("id", "stage", "enteredAt", "daysInStage", "plannedDays", "maxDays", "timeBox",
                "lastGate", "lastVerdict", "nextCheckpoint", "checkpointDue", "entries"):  # fmt: skip
        assert key in rows["gamma"], key


def test_status_table_has_a_risk_column_with_count_and_ids(ws: Path) -> None:
    result = run("--workspace", str(ws), "status")
    assert result.returncode == 0, result.stderr
    assert "risks" in result.stdout
    gamma = next(line for line in result.stdout.splitlines() if "gamma" in line)
    assert "1: single-sponsor" in gamma
    alpha = next(line for line in result.stdout.splitlines() if "alpha" in line)
    assert "single-sponsor" not in alpha


def test_an_unreadable_issue_export_is_reported_by_status_not_fatal(ws: Path) -> None:
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(spec.read_text() + "  issues: issues.csv\n")
    (ws / "issues.csv").write_text("id,title\n1,no kind column\n")
    session = Session.open(ws)
    state = ChainState(usecase="alpha", stage=Stage.PILOT, entered_at=T0, next_sequence=5)
    status = usecase_status(session.workspace, "alpha", state, T0 + timedelta(days=2))
    assert status.risks == ()
    assert status.risk_error is not None and "issues.csv" in status.risk_error
    assert "missing column" in status.to_json()["riskError"]  # type: ignore[operator]


def test_report_shows_risk_counts_on_the_index_and_details_on_the_use_case_page(
    ws: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = run("--workspace", str(ws), "audit", "report", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    index = (out / "index.html").read_text()
    assert re.search(r'<th scope="col" class="num">(<a [^>]*>)?Risks(</a>)?</th>', index)
    assert 'title="Single sponsor">1</span>' in index
    gamma = (out / "usecases" / "gamma.html").read_text()
    assert '<h2 id="risks">Risks</h2>' in gamma
    assert "1 sponsor (Kim Sun)" in gamma and "regular updates" in gamma
    alpha = (out / "usecases" / "alpha.html").read_text()
    assert "No known adoption risk" in alpha
