"""Each playbook risk is reported exactly when its mitigation is missing, in a stable order."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gates.errors import EvidenceError
from gates.ledger.replay import ChainState
from gates.ledger.statement import CriteriaLock
from gates.policy import criteria_digest, effective_criteria
from gates.risks import RISK_IDS, Risk, assess_risks
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.settings import Settings
from gates.workspace.usecase import UseCaseSpec

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
QUALITY_BAR = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.85}]}

#: A use case with every mitigation in place, at any stage.
SAFE: dict[str, Any] = {
    "id": "safe",
    "title": "Safe",
    "owner": "o@example.com",
    "department": "support",
    "sponsors": [{"name": "Kim"}, {"name": "Lee"}],
    "budgets": {"poc": 5000, "pilot": 20000, "production": 30000},
    "evidence": {
        "issues": "issues.yaml",
        "monitoring": {"dataset": "ops"},
        "cost": {"daily_spend": {"production": "spend"}},
    },
    "pilot_group": {"early_adopters": True, "description": "volunteers from tier 1"},
}


def spec(**changes: Any) -> UseCaseSpec:
    data = {**SAFE, **changes}
    return UseCaseSpec.model_validate({k: v for k, v in data.items() if v is not None})


def lock_of(stage: Stage, overrides: dict[str, Any] | None = None) -> CriteriaLock:
    base = QUALITY_BAR if stage is Stage.POC else {}
    criteria = effective_criteria(stage, {**base, **(overrides or {})})
    return CriteriaLock(
        stage=stage.value,
        digest=criteria_digest(criteria),
        criteria=criteria.model_dump(mode="json"),
    )


def state_in(stage: Stage | None, overrides: dict[str, Any] | None = None) -> ChainState:
    if stage is None:
        return ChainState(usecase="safe")
    locked = stage not in (Stage.SCALE, Stage.STOPPED)
    return ChainState(
        usecase="safe",
        stage=stage,
        entered_at=NOW - timedelta(days=3),
        lock=lock_of(stage, overrides) if locked else None,
        next_sequence=4,
    )


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "issues.yaml").write_text(
        "- {id: T-1, title: old, kind: blocker, severity: major, status: closed}\n"
        "- {id: T-2, title: typo, kind: issue, severity: minor, status: open}\n"
    )
    return Workspace(root=tmp_path, settings=Settings())


def ids(risks: list[Risk]) -> list[str]:
    return [r.id for r in risks]


@pytest.mark.parametrize(
    "stage", [None, Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION, Stage.SCALE]
)
def test_a_use_case_with_every_mitigation_has_no_risk(ws: Workspace, stage: Stage | None) -> None:
    assert assess_risks(ws, spec(), state_in(stage), NOW) == []


def test_one_sponsor_is_a_risk_and_the_detail_names_them(ws: Workspace) -> None:
    risks = assess_risks(ws, spec(sponsors=[{"name": "Kim"}]), state_in(Stage.POC), NOW)
    assert ids(risks) == ["single-sponsor"]
    assert risks[0].title == "Single sponsor"
    assert risks[0].detail == "1 sponsor (Kim)"
    assert "regular updates" in risks[0].mitigation


def test_no_sponsor_at_all_is_the_same_risk_even_before_registration(ws: Workspace) -> None:
    risks = assess_risks(ws, spec(sponsors=[]), state_in(None), NOW)
    assert ids(risks) == ["single-sponsor"]
    assert "no sponsor" in risks[0].detail


def test_a_stage_without_a_hard_maximum_in_its_locked_criteria_is_a_schedule_risk(
    ws: Workspace,
) -> None:
    state = state_in(Stage.PILOT, {"time_box": {"max_days": None}})
    risks = assess_risks(ws, spec(), state, NOW)
    assert ids(risks) == ["no-hard-deadline"]
    assert "Pilot" in risks[0].detail and "planned 56 days" in risks[0].detail


def test_the_locked_time_box_counts_not_the_spec(ws: Workspace) -> None:
    # The spec now drops the hard maximum, but the stage was entered under one: still enforced.
    loose = spec(criteria={"pilot": {"time_box": {"max_days": None}}})
    assert assess_risks(ws, loose, state_in(Stage.PILOT), NOW) == []


@pytest.mark.parametrize("stage", [Stage.PRODUCTION, Stage.SCALE])
def test_ongoing_stages_have_no_deadline_to_miss(ws: Workspace, stage: Stage) -> None:
    # Production's default time box is a review interval without a hard maximum.
    assert "no-hard-deadline" not in ids(assess_risks(ws, spec(), state_in(stage), NOW))


def test_explore_needs_no_budget_of_its_own(ws: Workspace) -> None:
    assert assess_risks(ws, spec(budgets={}), state_in(Stage.EXPLORE), NOW) == []


def test_poc_needs_its_own_budget_and_the_next_stages(ws: Workspace) -> None:
    risks = assess_risks(ws, spec(budgets={"poc": 5000}), state_in(Stage.POC), NOW)
    assert ids(risks) == ["no-stage-budget"]
    assert risks[0].detail == "no budget for pilot (next stage); budgets set: poc"
    risks = assess_risks(ws, spec(budgets={"pilot": 1}), state_in(Stage.POC), NOW)
    assert risks[0].detail == "no budget for poc (current stage); budgets set: pilot"


def test_a_zero_budget_is_no_budget(ws: Workspace) -> None:
    budgets = {"poc": 5000, "pilot": 0, "production": 30000}
    assert ids(assess_risks(ws, spec(budgets=budgets), state_in(Stage.PILOT), NOW)) == [
        "no-stage-budget"
    ]


def test_production_and_scale_need_the_production_budget_only(ws: Workspace) -> None:
    only_production = spec(budgets={"production": 30000})
    assert assess_risks(ws, only_production, state_in(Stage.PRODUCTION), NOW) == []
    assert assess_risks(ws, only_production, state_in(Stage.SCALE), NOW) == []
    for stage in (Stage.PRODUCTION, Stage.SCALE):
        risks = assess_risks(ws, spec(budgets={"pilot": 1}), state_in(stage), NOW)
        assert ids(risks) == ["no-stage-budget"]
        assert "production" in risks[0].detail


def test_production_without_monitoring_is_a_cost_risk(ws: Workspace) -> None:
    no_monitoring = {**SAFE["evidence"], "monitoring": None}
    risks = assess_risks(ws, spec(evidence=no_monitoring), state_in(Stage.PRODUCTION), NOW)
    assert ids(risks) == ["no-cost-monitoring"]
    assert "'spend'" in risks[0].detail and "80%" in risks[0].mitigation
    nothing = {"issues": "issues.yaml"}
    risks = assess_risks(ws, spec(evidence=nothing), state_in(Stage.PRODUCTION), NOW)
    assert risks[0].detail == "no evidence.monitoring and no production cost source"


def test_cost_monitoring_is_not_judged_before_production(ws: Workspace) -> None:
    assert assess_risks(ws, spec(evidence={}), state_in(Stage.PILOT), NOW) == []


def test_open_blockers_past_poc_are_a_risk(ws: Workspace) -> None:
    (ws.root / "issues.yaml").write_text(
        "- {id: T-1, title: no GPU quota, kind: blocker, severity: major, status: open}\n"
    )
    for stage in (Stage.PILOT, Stage.PRODUCTION, Stage.SCALE):
        risks = assess_risks(ws, spec(), state_in(stage), NOW)
        assert ids(risks) == ["blockers-open-past-poc"], stage
        assert "T-1 (no GPU quota)" in risks[0].detail
    # In PoC a blocker is what the gate is for, not a risk of having come too far.
    assert assess_risks(ws, spec(), state_in(Stage.POC), NOW) == []


def test_an_unreadable_issue_export_propagates(ws: Workspace) -> None:
    (ws.root / "issues.yaml").write_text("- {id: T-1, kind: showstopper}\n")
    with pytest.raises(EvidenceError, match=r"issues\.yaml"):
        assess_risks(ws, spec(), state_in(Stage.PILOT), NOW)


def test_pilot_users_must_be_early_adopters(ws: Workspace) -> None:
    sceptics = spec(pilot_group={"early_adopters": False, "description": "night shift"})
    risks = assess_risks(ws, sceptics, state_in(Stage.PILOT), NOW)
    assert ids(risks) == ["pilot-not-early-adopters"]
    assert "night shift" in risks[0].detail
    risks = assess_risks(ws, spec(pilot_group=None), state_in(Stage.PRODUCTION), NOW)
    assert ids(risks) == ["pilot-not-early-adopters"]
    assert assess_risks(ws, spec(pilot_group=None), state_in(Stage.POC), NOW) == []


def test_risks_come_in_the_documented_order_with_json(ws: Workspace) -> None:
    (ws.root / "issues.yaml").write_text(
        "- {id: T-9, title: x, kind: blocker, severity: minor, status: open}\n"
    )
    everything_wrong = spec(
        sponsors=[{"name": "Kim"}], budgets={}, pilot_group=None, evidence={"issues": "issues.yaml"}
    )
    risks = assess_risks(ws, everything_wrong, state_in(Stage.PRODUCTION), NOW)
    assert ids(risks) == [i for i in RISK_IDS if i != "no-hard-deadline"]
    pilot = assess_risks(
        ws, everything_wrong, state_in(Stage.PILOT, {"time_box": {"max_days": None}}), NOW
    )
    assert ids(pilot) == [i for i in RISK_IDS if i != "no-cost-monitoring"]
    assert pilot[0].to_json() == {
        "id": "single-sponsor",
        "title": "Single sponsor",
        "detail": "1 sponsor (Kim)",
        "mitigation": pilot[0].mitigation,
    }


def test_a_stopped_use_case_carries_no_risk(ws: Workspace) -> None:
    awful = spec(sponsors=[], budgets={}, pilot_group=None, evidence={})
    assert assess_risks(ws, awful, state_in(Stage.STOPPED), NOW) == []


def test_assessing_risks_loads_no_heavy_library() -> None:
    probe = (
        "import sys, gates.risks; "
        "print(sorted(m for m in ('prefect','mlflow','great_expectations','pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
