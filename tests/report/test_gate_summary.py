"""The gate told in brief: artifact keys Prefect accepts, and a markdown table that holds."""

from __future__ import annotations

from pathlib import Path

from gates.checks.interface import Check, CheckContext
from gates.checks.registry import registry_of
from gates.engine.actions import plan_promotion, record_gate
from gates.engine.gate import run_gate
from gates.report.gate_summary import artifact_key, gate_markdown, gate_summary
from gates.results import CheckResult, Status
from gates.stages import Stage
from tests.support.presets import GATE_TIME, UC, gate_spec, gate_world


def test_artifact_keys_use_only_the_characters_prefect_allows() -> None:
    assert (
        artifact_key("Support_Bot.v2", Stage.POC, Stage.PILOT) == "gate-support-bot-v2-poc-to-pilot"
    )
    assert artifact_key(UC, Stage.EXPLORE, Stage.POC) == "gate-ticket-triage-explore-to-poc"


def test_a_reason_with_pipes_and_line_breaks_stays_in_its_table_cell(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec())
    session = world.new_session()
    state = session.ledger.state(UC)

    def odd(ctx: CheckContext) -> list[CheckResult]:
        return [CheckResult("odd", "odd", Status.FAIL, "a | b\nc", None, "x")]

    plan = plan_promotion(
        session, state, UC, Stage.POC, GATE_TIME, checks=registry_of(Check("odd", odd))
    )
    evaluation = run_gate(plan)
    entry = record_gate(session, state, evaluation)

    markdown = gate_markdown(evaluation, entry, None, "MLflow\nunreachable")

    assert "| odd | **fail** | — | x | a \\| b c |" in markdown.splitlines()
    assert "**BLOCKED**" in markdown and entry.key in markdown
    assert "**Alias NOT moved**: MLflow unreachable" in markdown
    summary = gate_summary(evaluation, entry, None)
    assert summary["failing"] == [{"check": "odd", "status": "fail", "reason": "a | b\nc"}]
    assert (summary["verdict"], summary["stage"], summary["sequence"]) == (
        "blocked", "explore", entry.sequence,
    )  # fmt: skip
