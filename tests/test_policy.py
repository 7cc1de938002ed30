"""The default policy carries the playbook's numbers, and overrides merge predictably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gates.errors import ConfigError
from gates.policy import ExitCriteria, criteria_digest, default_policy, effective_criteria
from gates.stages import Stage

QUALITY_BAR = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.85}]}


def test_time_boxes_follow_the_playbook() -> None:
    boxes = {s: effective_criteria(s, QUALITY_BAR if s is Stage.POC else None).time_box
             for s in (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION)}  # fmt: skip
    assert (boxes[Stage.EXPLORE].planned_days, boxes[Stage.EXPLORE].max_days) == (
        14,
        14,
    )  # 1-2 weeks
    assert (boxes[Stage.POC].planned_days, boxes[Stage.POC].max_days) == (
        28,
        42,
    )  # 2-4 weeks, max 6
    assert (boxes[Stage.PILOT].planned_days, boxes[Stage.PILOT].max_days) == (
        56,
        90,
    )  # 4-8 weeks, < 90 days
    assert boxes[Stage.PRODUCTION].planned_days == 90  # quarterly review


def test_exit_criteria_numbers_follow_the_playbook() -> None:
    poc = effective_criteria(Stage.POC, QUALITY_BAR)
    assert (poc.datasets[0].min_rows, poc.datasets[0].max_rows) == (50, 100)
    assert poc.open_blockers_max == 0 and poc.cost is not None and poc.cost.warn_ratio == 0.8
    pilot = effective_criteria(Stage.PILOT).pilot
    assert pilot is not None
    assert (pilot.users_min, pilot.users_max, pilot.satisfaction_min) == (10, 50, 4.0)
    assert pilot.weekly_feedback and pilot.kpi_must_improve and pilot.critical_issues_max == 0
    production = {m.metric: (m.op, m.value) for m in effective_criteria(Stage.PRODUCTION).metrics}
    assert production == {
        "availability": (">=", 0.999),
        "quality_vs_target": (">=", -0.05),
        "major_incidents": ("<=", 0),
    }
    explore = effective_criteria(Stage.EXPLORE)
    assert explore.sponsors is not None and explore.sponsors.minimum == 1
    assert explore.budget_required_for == ["poc"]
    assert set(explore.deliverables) == {"candidate_list", "priority_matrix", "selection_rationale"}


def test_poc_needs_a_quality_bar_defined_up_front() -> None:
    with pytest.raises(ConfigError, match=r"criteria\.poc.*quality bar"):
        effective_criteria(Stage.POC)


def test_overrides_merge_mappings_and_replace_lists() -> None:
    merged = effective_criteria(
        Stage.PILOT, {"pilot": {"satisfaction_min": 4.2}, "deliverables": ["pilot_report"]}
    )
    assert (
        merged.pilot is not None
        and merged.pilot.satisfaction_min == 4.2
        and merged.pilot.users_min == 10
    )
    assert merged.deliverables == ["pilot_report"]


def test_unknown_or_mistyped_override_fields_name_the_field() -> None:
    with pytest.raises(
        ConfigError, match=r"criteria\.pilot\.pilot\.satisfaction_minimum: unknown field"
    ):
        effective_criteria(Stage.PILOT, {"pilot": {"satisfaction_minimum": 4.2}})
    with pytest.raises(ConfigError, match=r"criteria\.pilot\.time_box\.max_days"):
        effective_criteria(Stage.PILOT, {"time_box": {"max_days": "ninety"}})


def test_digest_is_stable_and_sensitive_to_every_value() -> None:
    a = criteria_digest(effective_criteria(Stage.POC, QUALITY_BAR))
    assert a == criteria_digest(effective_criteria(Stage.POC, QUALITY_BAR))
    tighter = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.86}]}
    assert a != criteria_digest(effective_criteria(Stage.POC, tighter))


def test_scale_has_no_exit_gate() -> None:
    assert "scale" not in default_policy()
    with pytest.raises(ConfigError, match="no exit gate"):
        effective_criteria(Stage.SCALE)


def test_the_production_gate_holds_the_quarterly_scale_review_goals() -> None:
    scale = effective_criteria(Stage.PRODUCTION).scale
    assert scale is not None
    assert scale.production_per_quarter_min == 2  # >= 2 new use cases in Production per quarter
    assert scale.department_share_may_fall is False  # share of departments using AI rising
    assert scale.adoption_time_rising == "warn"  # adoption time falling through reuse
    for stage in (Stage.EXPLORE, Stage.PILOT):
        assert effective_criteria(stage).scale is None


def test_the_lock_holds_budgets_and_recheck_thresholds_so_loosening_them_changes_the_digest(
    tmp_path: Path,
) -> None:
    from gates.workspace.loader import Workspace
    from gates.workspace.settings import Settings
    from gates.workspace.usecase import UseCaseSpec

    def criteria_with(**spec: Any) -> ExitCriteria:
        usecase = UseCaseSpec.model_validate(
            {"id": "svc", "title": "t", "owner": "o", "department": "d", **spec}
        )
        workspace = Workspace(tmp_path, Settings(), {"svc": usecase})
        return workspace.criteria(usecase, Stage.PILOT)

    base = criteria_with(budgets={"pilot": 100, "production": 900, "scale": 5})
    locked = base.model_dump(mode="json")
    # Pilot judges its own budget and the production budget its cost forecast uses.
    assert locked["budgets"] == {"pilot": 100, "production": 900}
    assert locked["recheck"]["time_box"] == {"overdue": "fail"}
    assert locked["time_box"]["max_days"] == 90
    digest = criteria_digest(base)
    assert (
        criteria_digest(criteria_with(budgets={"pilot": 100, "production": 900, "scale": 9}))
        == digest
    )
    assert criteria_digest(criteria_with(budgets={"pilot": 100, "production": 1900})) != digest
    loosened = criteria_with(
        budgets={"pilot": 100, "production": 900},
        recheck={"pilot": {"time_box": {"overdue": "warn"}}},
    )
    assert criteria_digest(loosened) != digest
