"""The Gantt charts: well-formed SVG that names every stage and use case, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gates.roadmap.gantt import portfolio_gantt, usecase_gantt
from gates.roadmap.tracking import RoadmapTrack, milestones_of, track_roadmap
from gates.stages import Stage
from tests.support.world import World

SVG = "{http://www.w3.org/2000/svg}"


def track(world: World, usecase: str, day: float) -> RoadmapTrack:
    state = world.session.ledger.state(usecase)
    spec = world.session.workspace.usecases.get(usecase)
    return track_roadmap(usecase, spec, milestones_of(state.history), world.at(day))


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def titles(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}title")]


def test_use_case_gantt_names_each_stage_and_marks_the_overdue_decision(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)
    svg = str(usecase_gantt(track(world, "alpha", 45)))
    found = texts(svg)
    for stage in ("Explore", "PoC", "Pilot", "Production", "Decisions"):
        assert stage in found
    assert "W6 overdue" in found and "W2" in found
    assert "today 2026-02-19" in found
    tips = titles(svg)
    assert tips[0] == "Roadmap of alpha: planned against actual"
    assert "alpha: PoC planned 2026-01-19 to 2026-02-15 (weeks 3–6)" in tips
    assert "alpha: PoC actual 2026-01-15 to now" in tips
    assert "week 6: go to Pilot? due 2026-02-15, OVERDUE by 4 d" in tips


def test_portfolio_gantt_has_a_row_per_use_case_and_names_every_stage(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    world.register("beta", 1)
    world.decide("beta", "no-go", 5, reason="not feasible")
    svg = str(portfolio_gantt([track(world, "alpha", 30), track(world, "beta", 30)]))
    found = texts(svg)
    assert {"alpha", "beta"} <= set(found)
    assert {"Explore", "PoC", "Pilot", "Production", "Scale"} <= set(found)  # the legend
    assert "stopped" in found  # beta's stop is marked in words, not colour alone
    assert "PoC · on plan" in found


def test_text_from_the_spec_is_escaped_and_the_svg_stays_well_formed(world: World) -> None:
    world.append_spec("alpha", 'roadmap:\n  checkpoints: {2: "<script>alert(1)</script> & go?"}\n')
    world.register("alpha", 0)
    svg = str(usecase_gantt(track(world, "alpha", 20)))
    assert "<script>" not in svg
    assert "week 2: <script>alert(1)</script> & go? due 2026-01-18, OVERDUE by 7 d" in titles(svg)


def test_without_a_plan_the_charts_say_so(world: World) -> None:
    unplanned = track_roadmap("beta", world.session.workspace.usecases["beta"], (), world.at(0))
    assert "nothing to plan from" in " ".join(texts(str(usecase_gantt(unplanned))))
    assert texts(str(portfolio_gantt([unplanned]))) == ["No use case has a roadmap to draw yet."]


def test_a_rolled_back_stage_shows_each_stay_as_its_own_bar(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    world.record_pass("alpha", 42)
    world.decide("alpha", "rollback", 60, reason="incidents", to=Stage.POC)
    world.record_pass("alpha", 80)
    tips = titles(str(usecase_gantt(track(world, "alpha", 90))))
    pilot = [t for t in tips if t.startswith("alpha: Pilot actual")]
    assert pilot == [
        "alpha: Pilot actual 2026-02-16 to 2026-03-06, left by rollback",
        "alpha: Pilot actual 2026-03-26 to now",
    ]
