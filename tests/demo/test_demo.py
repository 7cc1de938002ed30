"""The demo scenario end to end: the story's verdicts are what the evidence says."""

from __future__ import annotations

import io
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from gates.demo.scenario import run_demo
from gates.ledger.verify import verify_ledger
from gates.stages import Stage
from gates.workspace.session import Session


def gate_verdicts(session: Session, usecase: str) -> list[tuple[str, str, list[str]]]:
    out = []
    for entry in session.ledger.replay(usecase).state.history:
        gate = entry.predicate.gate
        if gate:
            failing = sorted(c.check for c in gate.checks if c.status in ("fail", "error"))
            out.append((f"{gate.from_stage}->{gate.to_stage}", gate.verdict, failing))
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo") / "workspace"
    buffer = io.StringIO()
    run_demo(root, use_prefect=False, console=Console(file=buffer, width=140))
    return root, buffer.getvalue()


def test_support_bot_walks_to_production_through_two_blocked_gates(demo: tuple[Path, str]) -> None:
    root, _ = demo
    session = Session.open(root)
    assert gate_verdicts(session, "support-bot") == [
        ("explore->poc", "pass", []),
        ("poc->pilot", "blocked", ["metric:accuracy"]),
        ("poc->pilot", "pass", []),
        ("pilot->production", "blocked", ["pilot:satisfaction"]),
        ("pilot->production", "pass", []),
    ]
    assert session.ledger.state("support-bot").stage is Stage.PRODUCTION


def test_invoice_ocr_is_blocked_then_stopped_by_a_no_go(demo: tuple[Path, str]) -> None:
    root, _ = demo
    session = Session.open(root)
    verdicts = gate_verdicts(session, "invoice-ocr")
    assert verdicts[-1] == ("poc->pilot", "blocked", ["blockers:open", "metric:field_accuracy"])
    state = session.ledger.state("invoice-ocr")
    assert state.stage is Stage.STOPPED
    decision = state.history[-1].predicate.decision
    assert (
        decision is not None and decision.decision == "no-go" and "Handwritten" in decision.reason
    )
    # The sponsor decided with her own key; the gate's entry cites her approval.
    approval = state.history[-2]
    assert approval.predicate.approval is not None
    assert approval.predicate.approval.purpose == "decision"
    assert decision.approvals == [approval.sequence] and decision.decider == "Dana Park"


def test_the_demo_moves_mlflow_aliases_to_the_gated_versions(demo: tuple[Path, str]) -> None:
    from mlflow.tracking import MlflowClient

    root, _ = demo
    client = MlflowClient(tracking_uri=Session.open(root).workspace.tracking_uri)
    assert str(client.get_model_version_by_alias("support-bot", "pilot").version) == "2"
    assert str(client.get_model_version_by_alias("support-bot", "production").version) == "2"


def test_explore_selects_both_use_cases_from_the_scored_candidates(demo: tuple[Path, str]) -> None:
    root, text = demo
    session = Session.open(root)
    picks = {}
    for usecase in ("support-bot", "invoice-ocr"):
        first = session.ledger.state(usecase).history[0].predicate
        assert first.kind == "registration" and first.selection is not None
        picks[usecase] = (first.selection.rank, first.selection.of)
    assert picks == {"support-bot": (1, 5), "invoice-ocr": (2, 5)}
    assert "support-bot selected (rank 1 of 5) and registered" in text
    assert (root / "docs" / "explore" / "priority-matrix.svg").is_file()


def test_the_story_explains_each_blocked_gate(demo: tuple[Path, str]) -> None:
    _, text = demo
    assert "BLOCKED — stays in PoC; not met: metric:accuracy" in text
    assert "BLOCKED — stays in Pilot; not met: pilot:satisfaction" in text
    assert "Dana Park (sponsor) signs the No-Go with her own key" in text
    assert "intact" in text


def test_the_nightly_recheck_watches_production_from_mlflow_monitoring(
    demo: tuple[Path, str],
) -> None:
    root, text = demo
    last = Session.open(root).ledger.state("support-bot").history[-1]
    recheck = last.predicate.recheck
    assert last.predicate.kind == "recheck" and recheck is not None
    assert recheck.stage == "production" and recheck.verdict == "warn"
    statuses = {c.check: c.status for c in recheck.checks}
    assert statuses["health:cost"] == "warn"  # ~2,200 USD a day against 80,000 a month
    assert statuses["health:availability"] == "pass"
    assert {"monitoring:alert-rules", "operations:runbook"} <= set(statuses)
    evidence = next(c for c in recheck.checks if c.check == "health:availability").evidence
    assert evidence[0]["kind"] == "mlflow-monitoring" and len(evidence[0]["details"]["runs"]) == 14
    assert "support-bot: WARN (health:cost warn" in text


def test_the_demo_files_support_bots_monthly_operations_report(demo: tuple[Path, str]) -> None:
    """The report covers the month of the last monitoring run, from the runs the demo logged."""
    from gates.demo.workspace import monitoring_day

    root, text = demo
    [page] = (root / "reports").glob("monthly-report-support-bot-*.html")
    data = json.loads(page.with_suffix(".json").read_text())
    start = datetime.fromisoformat(data["from"])
    end = datetime.fromisoformat(data["to"])
    logged = {
        (story_start(root) + timedelta(days=n) - timedelta(hours=8)).date(): monitoring_day(n)
        for n in range(92, 106)
    }
    in_month = {d: m for d, m in logged.items() if start.date() <= d < end.date()}
    assert [d["date"] for d in data["days"]] == [d.isoformat() for d in sorted(in_month)]
    assert data["cost"]["spent"] == pytest.approx(sum(m["cost"] for m in in_month.values()))
    assert data["incidents"]["days"] == []
    nights = [n["sequence"] for n in data["rechecks"]]
    recheck = Session.open(root).ledger.state("support-bot").history[-1]
    assert nights == ([recheck.sequence] if start <= recheck.predicate.time < end else [])
    assert "<svg" in page.read_text()
    assert f"monthly operations report for {data['month']}" in text
    cost = next(j for j in data["summary"] if j["criterion"] == "cost")
    assert cost["status"] == ("warning" if data["cost"]["ratio"] >= 0.8 else "met")
    assert ("cost warning" in text) is (cost["status"] == "warning")


def story_start(root: Path) -> datetime:
    """The demo's day 0: support-bot's registration."""
    return Session.open(root).ledger.state("support-bot").history[0].predicate.time


def test_the_demo_folder_verifies_after_being_moved(demo: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = demo
    moved = tmp_path / "elsewhere"
    shutil.copytree(root, moved)
    report = verify_ledger(Session.open(moved).ledger)
    assert report.intact and report.entries == 20


def test_the_demo_ledger_verifies_and_says_it_ran_on_a_simulated_clock(
    demo: tuple[Path, str],
) -> None:
    root, text = demo
    report = verify_ledger(Session.open(root).ledger)
    assert report.intact and report.simulated_clock
    assert report.notes[0].startswith("simulated time: timings are not evidence (20 entries")
    assert "intact (simulated time: timings are not evidence)" in " ".join(text.split())


def test_the_demo_workspace_passes_validate(demo: tuple[Path, str]) -> None:
    """It failed with 14 problems before: every stage was judged at once."""
    from tests.cli.test_cli import run

    root, _ = demo
    result = run("--workspace", str(root), "validate", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert report["stages"] == {"invoice-ocr": "stopped", "support-bot": "production"}
    # What the Production → Scale gate will still need is said, as warnings.
    assert any("monthly_report" in w for w in report["warnings"]), report


def test_demo_refuses_a_folder_with_content(tmp_path: Path) -> None:
    from gates.errors import ConfigError

    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        run_demo(tmp_path, use_prefect=False, console=Console(file=io.StringIO()))
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_demo_with_its_ledger_in_seaweedfs(
    seaweedfs: object, s3_bucket: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    run_demo(
        root,
        store=f"s3://{s3_bucket}/ledger",
        use_prefect=False,
        console=Console(file=io.StringIO()),
    )
    session = Session.open(root)
    assert session.store.uri.startswith("s3://")
    assert session.ledger.state("support-bot").stage is Stage.PRODUCTION
    assert verify_ledger(session.ledger).intact


@pytest.mark.parametrize(
    ("stage", "model", "code"),
    [
        ("production", "models:/support-bot/2", 0),
        ("pilot", "models:/support-bot/2", 0),
        ("production", "models:/support-bot/1", 1),
        ("scale", "models:/support-bot/2", 1),
        ("pilot", "support-bot/2", 2),
    ],
)
def test_admission_answers_the_deploy_pipeline(
    demo: tuple[Path, str], stage: str, model: str, code: int
) -> None:
    import subprocess
    import sys

    root, _ = demo
    cmd = [
        sys.executable,
        "-m",
        "gates.cli",
        "-w",
        str(root),
        "admit",
        "support-bot",
        "--stage",
        stage,
        "--model",
        model,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == code, result.stdout + result.stderr
