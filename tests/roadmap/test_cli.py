"""`stagegate roadmap` and the roadmap facts of `stagegate status`, as users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gates.stages import Stage
from tests.support.world import World

STAGEGATE = [sys.executable, "-m", "gates.cli"]
SVG = "{http://www.w3.org/2000/svg}"
#: 2026-02-19: alpha is in PoC, four days past the week-6 decision.
AT = "2026-02-19T12:00:00Z"


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    env["COLUMNS"] = "200"  # a wide terminal: the status table's headings are not folded
    return subprocess.run(
        [*STAGEGATE, "--workspace", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def walked(world: World) -> World:
    """alpha: registered on its start date, in PoC from day 10; beta: registered on day 2."""
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)
    world.register("beta", 2)
    return world


def test_status_json_gains_the_roadmap_facts_and_keeps_its_keys(walked: World) -> None:
    result = run(walked.root, "status", "--json", "--at", AT)
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    alpha = rows["alpha"]
    for key in ("id", "stage", "enteredAt", "daysInStage", "plannedDays", "maxDays", "timeBox",
                "lastGate", "lastVerdict", "nextCheckpoint", "checkpointDue", "entries"):  # fmt: skip
        assert key in alpha
    assert alpha["stage"] == "poc" and alpha["plannedDays"] == 28
    assert (alpha["slipDays"], alpha["nextDecision"], alpha["nextDecisionDue"]) == (
        3,
        "go to Pilot?",
        "2026-02-15",
    )
    assert alpha["overdueDecisions"] == 1 and alpha["roadmapError"] is None
    beta = rows["beta"]  # no start date: planned from its registration on 2026-01-07
    assert (beta["stage"], beta["nextDecision"], beta["nextDecisionDue"]) == (
        "explore",
        "use case approved",
        "2026-01-20",
    )
    assert beta["overdueDecisions"] == 2 and beta["slipDays"] == 29  # weeks 2 and 6 passed


def test_status_table_shows_slip_next_decision_and_overdue_count(walked: World) -> None:
    result = run(walked.root, "status", "--at", AT)
    assert result.returncode == 0, result.stderr
    for text in ("slip", "next decision", "overdue", "+3 d", "go to Pilot?", "2026-02-15"):
        assert text in result.stdout, text


def test_roadmap_json_for_one_use_case_has_the_documented_shape(walked: World) -> None:
    result = run(walked.root, "roadmap", "alpha", "--json", "--at", AT)
    assert result.returncode == 0, result.stderr
    (doc,) = json.loads(result.stdout)
    assert list(doc) == [
        "id", "stage", "at", "start", "startSource", "overrides", "note", "slipDays",
        "currentStagePlannedEnd", "stoppedAt", "stages", "decisions", "nextDecision",
        "upcoming", "overdue",
    ]  # fmt: skip
    assert (doc["id"], doc["stage"], doc["start"], doc["startSource"]) == (
        "alpha",
        "poc",
        "2026-01-05",
        "start_date",
    )
    assert doc["currentStagePlannedEnd"] == "2026-02-15"
    poc = next(s for s in doc["stages"] if s["stage"] == "poc")
    assert (poc["plannedStart"], poc["plannedEnd"], poc["startSlipDays"], poc["slipDays"]) == (
        "2026-01-19",
        "2026-02-15",
        -4,
        3,
    )
    assert poc["actualStart"].startswith("2026-01-15")
    assert [(d["week"], d["label"], d["daysOverdue"]) for d in doc["overdue"]] == [
        (6, "go to Pilot?", 4)
    ]


def test_roadmap_table_and_portfolio_name_the_overdue_decision(walked: World) -> None:
    one = run(walked.root, "roadmap", "alpha", "--at", AT)
    assert one.returncode == 0, one.stderr
    assert "OVERDUE by 4 d" in one.stdout and "planned from start_date 2026-01-05" in one.stdout
    portfolio = run(walked.root, "roadmap", "--at", AT)
    assert portfolio.returncode == 0, portfolio.stderr
    assert "alpha" in portfolio.stdout and "beta" in portfolio.stdout
    assert "2026-01-07 (registration)" in portfolio.stdout
    docs = json.loads(run(walked.root, "roadmap", "--json", "--at", AT).stdout)
    assert [d["id"] for d in docs] == ["alpha", "beta"]


def test_roadmap_chart_writes_an_svg_naming_each_stage(walked: World, tmp_path: Path) -> None:
    out = tmp_path / "alpha.svg"
    result = run(walked.root, "roadmap", "alpha", "--chart", str(out), "--at", AT, "--json")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # the chart note goes to stderr; stdout stays JSON
    texts = {t.text for t in ET.parse(out).getroot().iter(f"{SVG}text")}
    assert {"Explore", "PoC", "Pilot", "Production"} <= texts
    assert "W6 overdue" in texts


def test_roadmap_of_an_unknown_use_case_or_a_bad_override_exits_2(walked: World) -> None:
    unknown = run(walked.root, "roadmap", "nobody")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    walked.append_spec("alpha", "roadmap:\n  stages:\n    poc: {first: 3, last: 9}\n")
    bad = run(walked.root, "roadmap", "alpha")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "alpha.yaml: roadmap.stages.pilot: starts in week 7" in bad.stderr
    status = run(walked.root, "status", "--json")  # a status still answers, and says why
    assert status.returncode == 0, status.stderr
    alpha = next(r for r in json.loads(status.stdout) if r["id"] == "alpha")
    assert alpha["slipDays"] is None and "roadmap.stages.pilot" in alpha["roadmapError"]


def test_roadmap_command_imports_no_prefect_mlflow_or_great_expectations(
    walked: World,
) -> None:
    probe = (
        "import sys\n"
        "from gates.cli.app import app\n"
        "try:\n"
        "    app(['--workspace', sys.argv[1], 'roadmap', '--json'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'mlflow', 'great_expectations'})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(walked.root)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout
