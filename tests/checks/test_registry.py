"""The check registry: what a gate runs by default, in which order, and a registry of one's own."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from gates.checks.interface import Check, CheckContext
from gates.checks.registry import DEFAULT_CHECKS, registry_of
from gates.engine.gate import evaluate_gate, plan_gate
from gates.results import CheckResult, Status, Verdict
from gates.stages import Stage
from tests.support.presets import GATE_TIME, UC, gate_spec, gate_world


def test_default_checks_are_listed_in_report_order_each_the_run_of_its_module() -> None:
    assert list(DEFAULT_CHECKS) == [
        "criteria_lock", "timebox", "sponsors", "approvals", "deliverables", "expectations",
        "mlflow_metrics", "pilot_outcomes", "blockers", "cost_forecast", "scale_readiness",
        "next_criteria",
    ]  # fmt: skip
    for kind, check in DEFAULT_CHECKS.items():
        assert check.kind == kind
        assert check.run is importlib.import_module(f"gates.checks.{kind}").run


def test_importing_the_registry_loads_no_heavy_library() -> None:
    probe = (
        "import sys; import gates.checks.registry; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'great_expectations', 'mlflow', 'pandas', 'prefect', 'boto3'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_a_kind_registered_twice_is_refused() -> None:
    check = DEFAULT_CHECKS["sponsors"]
    with pytest.raises(ValueError, match="check kinds registered twice: sponsors"):
        registry_of(check, DEFAULT_CHECKS["timebox"], check)


def test_the_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_CHECKS["extra"] = DEFAULT_CHECKS["sponsors"]  # type: ignore[index]


def test_a_gate_runs_the_registry_it_is_given_in_its_order_leaving_out_what_does_not_apply(
    tmp_path: Path,
) -> None:
    world = gate_world(tmp_path / "ws", gate_spec())
    session = world.new_session()
    state = session.ledger.state(UC)
    seen: list[str] = []

    def judged(kind: str) -> Check:
        def run(ctx: CheckContext) -> list[CheckResult]:
            seen.append(kind)
            return [CheckResult(kind, kind, Status.PASS, f"{ctx.usecase.id} judged")]

        return Check(kind, run)

    never = Check("never", judged("never").run, applies=lambda criteria: False)
    checks = registry_of(judged("second-look"), never, DEFAULT_CHECKS["sponsors"])

    plan = plan_gate(session.workspace, state, UC, Stage.POC, GATE_TIME, checks=checks)
    evaluation = evaluate_gate(session.workspace, state, UC, Stage.POC, GATE_TIME, checks=checks)

    assert plan.kinds == ("second-look", "sponsors")
    assert seen == ["second-look"]
    assert [r.check for r in evaluation.results] == ["second-look", "sponsors", "budget:poc"]
    assert evaluation.verdict is Verdict.PASS
