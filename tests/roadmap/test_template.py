"""The playbook's template as data: exact dates from a start date, and per-use-case overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gates.errors import ConfigError
from gates.roadmap.template import instantiate, plan_for
from gates.stages import Stage
from gates.workspace.loader import load_workspace
from gates.workspace.usecase import RoadmapOverride, StageWeeks
from tests.support.presets import ROADMAP_START, roadmap_world


def stages(plan: object) -> list[tuple[str, int, int | None, str, str | None]]:
    return [
        (p.stage.value, p.first_week, p.last_week, p.start.isoformat(),
         p.end.isoformat() if p.end else None)
        for p in plan.stages  # type: ignore[attr-defined]
    ]  # fmt: skip


def decisions(plan: object) -> list[tuple[int, str, str, str, str]]:
    return [
        (d.week, d.label, d.stage.value, d.kind, d.due.isoformat())
        for d in plan.decisions  # type: ignore[attr-defined]
    ]


def test_template_from_a_start_date_gives_the_exact_stage_dates() -> None:
    plan = instantiate("alpha", ROADMAP_START, "start_date")
    assert stages(plan) == [
        ("explore", 1, 2, "2026-01-05", "2026-01-18"),
        ("poc", 3, 6, "2026-01-19", "2026-02-15"),
        ("pilot", 7, 14, "2026-02-16", "2026-04-12"),
        ("production", 15, None, "2026-04-13", None),
    ]
    assert plan.stage(Stage.POC) is not None and plan.stage(Stage.POC).leave_on == date(2026, 2, 16)
    assert plan.stage(Stage.SCALE) is None


def test_template_decisions_fall_on_the_last_day_of_weeks_2_6_14_16_and_a_quarter_in() -> None:
    plan = instantiate("alpha", ROADMAP_START, "start_date")
    assert decisions(plan) == [
        (2, "use case approved", "explore", "exit", "2026-01-18"),
        (6, "go to Pilot?", "poc", "exit", "2026-02-15"),
        (14, "go to Production?", "pilot", "exit", "2026-04-12"),
        (16, "stable?", "production", "review", "2026-04-26"),
        (27, "quarterly Scale review", "production", "scale-review", "2026-07-12"),
    ]


def test_a_mid_week_start_keeps_seven_day_weeks() -> None:
    plan = instantiate("alpha", date(2026, 3, 4), "start_date")
    assert stages(plan)[0] == ("explore", 1, 2, "2026-03-04", "2026-03-17")
    assert decisions(plan)[1][4] == "2026-04-14"  # week 6 ends 6*7-1 days after the start


def test_stage_overrides_move_the_stages_and_the_decisions_anchored_to_them() -> None:
    override = RoadmapOverride(
        stages={
            "poc": StageWeeks(first=3, last=8),
            "pilot": StageWeeks(first=9, last=16),
            "production": StageWeeks(first=17, last=30),
            "scale": StageWeeks(first=31),
        }
    )
    plan = instantiate("alpha", ROADMAP_START, "start_date", override)
    assert stages(plan)[1:] == [
        ("poc", 3, 8, "2026-01-19", "2026-03-01"),
        ("pilot", 9, 16, "2026-03-02", "2026-04-26"),
        ("production", 17, 30, "2026-04-27", "2026-08-02"),
        ("scale", 31, None, "2026-08-03", None),
    ]
    assert [(d.week, d.label) for d in plan.decisions] == [
        (2, "use case approved"),
        (8, "go to Pilot?"),
        (16, "go to Production?"),
        (18, "stable?"),
        (29, "quarterly Scale review"),
    ]
    assert plan.overrides == ("stages.pilot", "stages.poc", "stages.production", "stages.scale")


def test_checkpoint_overrides_replace_the_week_numbered_decisions() -> None:
    override = RoadmapOverride(
        checkpoints={3: "data access confirmed", 6: "pilot go/no-go", 20: "cost on budget?"}
    )
    plan = instantiate("alpha", ROADMAP_START, "start_date", override)
    assert decisions(plan) == [
        (3, "data access confirmed", "poc", "review", "2026-01-25"),
        (6, "pilot go/no-go", "poc", "exit", "2026-02-15"),
        (20, "cost on budget?", "production", "review", "2026-05-24"),
        (27, "quarterly Scale review", "production", "scale-review", "2026-07-12"),
    ]
    assert plan.overrides == ("checkpoints",)


def test_overlapping_stage_weeks_are_a_config_error_naming_the_field() -> None:
    override = RoadmapOverride(stages={"poc": StageWeeks(first=3, last=8)})
    with pytest.raises(ConfigError) as caught:
        instantiate("alpha", ROADMAP_START, "start_date", override, source="usecases/alpha.yaml")
    message = caught.value.diagnostics()
    assert message.startswith("usecases/alpha.yaml: roadmap.stages.pilot: starts in week 7")
    assert "before PoC ends (week 8)" in message


def test_an_ongoing_stage_followed_by_another_is_a_config_error() -> None:
    override = RoadmapOverride(stages={"scale": StageWeeks(first=30)})
    with pytest.raises(ConfigError, match=r"roadmap\.stages\.production: ongoing"):
        instantiate("alpha", ROADMAP_START, "start_date", override)


def test_checkpoint_weeks_count_from_one() -> None:
    with pytest.raises(ConfigError, match=r"roadmap\.checkpoints\.0: weeks count from 1"):
        instantiate(
            "alpha", ROADMAP_START, "start_date", RoadmapOverride(checkpoints={0: "kick-off"})
        )


def test_roadmap_start_date_wins_over_the_spec_start_date_and_both_over_registration(
    tmp_path: Path,
) -> None:
    root = roadmap_world(tmp_path / "ws").root
    spec_path = root / "usecases" / "alpha.yaml"
    spec_path.write_text(
        spec_path.read_text()
        + "roadmap:\n  start_date: 2026-02-02\n  stages:\n    pilot: {first: 7, last: 12}\n"
        + "    production: {first: 13}\n"
    )
    workspace = load_workspace(root)
    registered = datetime(2026, 1, 1, 12, tzinfo=UTC)
    plan = plan_for("alpha", workspace.usecases["alpha"], registered)
    assert plan is not None
    assert (plan.start, plan.start_source) == (date(2026, 2, 2), "roadmap.start_date")
    assert stages(plan)[2] == ("pilot", 7, 12, "2026-03-16", "2026-04-26")
    beta = plan_for("beta", workspace.usecases["beta"], registered)
    assert beta is not None and (beta.start, beta.start_source) == (
        date(2026, 1, 1),
        "registration",
    )
    assert "no start date in the spec" in beta.start_note
    assert plan_for("beta", workspace.usecases["beta"], None) is None
