"""Planned against actual from a real ledger: exact slips, decisions due, overdue and re-planned."""

from __future__ import annotations

from datetime import date

from gates.roadmap.tracking import RoadmapTrack, milestones_of, track_roadmap
from gates.stages import Stage
from tests.support.world import World


def track(world: World, usecase: str, day: float) -> RoadmapTrack:
    state = world.session.ledger.state(usecase)
    spec = world.session.workspace.usecases.get(usecase)
    return track_roadmap(usecase, spec, milestones_of(state.history), world.at(day))


def slips(t: RoadmapTrack) -> dict[str, tuple[str, int | None, int | None]]:
    return {s.stage.value: (s.state, s.start_slip_days, s.slip_days) for s in t.stages}


def states(t: RoadmapTrack) -> dict[str, str]:
    return {d.label: d.state for d in t.decisions}


def test_actual_stage_dates_come_from_the_entries_and_give_exact_slips(world: World) -> None:
    world.register("alpha", 0)  # 2026-01-05, the planned start
    poc = world.promote_approved(
        "alpha", Stage.POC, 17
    )  # 2026-01-22: Explore was planned to be left on 01-19
    pilot = world.record_pass("alpha", 50)  # 2026-02-24: PoC was planned to be left on 02-16
    production = world.record_pass("alpha", 95)  # 2026-04-10: three days before 04-13
    t = track(world, "alpha", 100)
    assert slips(t) == {
        "explore": ("done", 0, 3),
        "poc": ("done", 3, 8),
        "pilot": ("done", 8, -3),
        "production": ("current", -3, -3),
    }
    by_stage = {s.stage: s for s in t.stages}
    assert by_stage[Stage.POC].actual_start == poc.predicate.time
    assert by_stage[Stage.POC].actual_end == pilot.predicate.time
    assert by_stage[Stage.PRODUCTION].actual_start == production.predicate.time
    assert t.slip_days == -3
    assert [(d.label, d.state, d.entry) for d in t.decisions][:3] == [
        ("use case approved", "taken", poc.sequence),
        ("go to Pilot?", "taken", pilot.sequence),
        ("go to Production?", "taken", production.sequence),
    ]


def test_current_stage_slip_counts_the_days_past_its_planned_end(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)  # four days early
    assert track(world, "alpha", 30).slip_days == -4  # still needs its planned length
    assert track(world, "alpha", 45).slip_days == 3  # 2026-02-19, PoC was to be left on 02-16


def test_a_passed_week_6_without_the_pilot_decision_is_overdue(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)
    t = track(world, "alpha", 45)  # 2026-02-19; week 6 ended on 02-15
    overdue = t.overdue
    assert [(d.planned.week, d.label, d.due, d.days_overdue) for d in overdue] == [
        (6, "go to Pilot?", date(2026, 2, 15), 4)
    ]
    assert t.next_decision is overdue[0]
    assert states(t)["go to Production?"] == "open"
    doc = t.to_json()
    assert doc["overdue"] == [d.to_json() for d in overdue]
    assert doc["nextDecision"]["label"] == "go to Pilot?"  # type: ignore[index]


def test_a_decision_due_within_14_days_is_upcoming_and_not_overdue(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)
    t = track(world, "alpha", 35)  # 2026-02-09: six days before week 6 ends
    assert [d.label for d in t.upcoming] == ["go to Pilot?"]
    assert t.overdue == ()
    assert track(world, "alpha", 41).upcoming[0].due == date(2026, 2, 15)  # the due day itself


def test_explore_left_late_makes_week_2_overdue_until_the_gate_passes(world: World) -> None:
    world.register("alpha", 0)
    assert states(track(world, "alpha", 13))["use case approved"] == "upcoming"
    assert states(track(world, "alpha", 14))["use case approved"] == "overdue"
    world.promote_approved("alpha", Stage.POC, 20)
    assert states(track(world, "alpha", 21))["use case approved"] == "taken"


def test_a_stopped_use_case_has_no_open_decisions_and_no_current_slip(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    stop = world.decide("alpha", "no-go", 30, reason="not feasible")
    t = track(world, "alpha", 200)
    assert t.stage is Stage.STOPPED and t.stopped_at == stop.predicate.time
    assert slips(t) == {
        "explore": ("done", 0, 0),
        "poc": ("stopped", 0, None),
        "pilot": ("not-reached", None, None),
        "production": ("not-reached", None, None),
    }
    assert states(t) == {
        "use case approved": "taken",
        "go to Pilot?": "no-go",
        "go to Production?": "cancelled",
        "stable?": "cancelled",
    }
    assert t.overdue == () and t.next_decision is None and t.slip_days is None


def test_a_rollback_re_plans_the_decisions_from_the_rollback_day(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    world.record_pass("alpha", 42)  # Pilot on plan
    world.record_pass("alpha", 98)  # Production on plan (2026-04-13)
    world.decide(
        "alpha", "rollback", 120, reason="incidents", to=Stage.PILOT
    )  # 2026-05-05, 78 days after Pilot's planned start
    t = track(world, "alpha", 121)
    by_label = {d.label: d for d in t.decisions}
    again = by_label["go to Production?"]
    assert (again.state, again.planned.due, again.due) == (
        "open",
        date(2026, 4, 12),
        date(2026, 6, 29),
    )
    assert again.note is not None and "rollback to Pilot on 2026-05-05" in again.note
    assert by_label["stable?"].due == date(2026, 7, 13)  # keeps its two weeks after
    assert t.overdue == ()
    assert slips(t)["production"][0] == "rolled-back"
    pilot = next(s for s in t.stages if s.stage is Stage.PILOT)
    assert pilot.state == "current" and len(pilot.visits) == 2
    assert pilot.slip_days == 78
    assert [d.label for d in track(world, "alpha", 180).overdue] == ["go to Production?"]


def test_stable_is_decided_by_a_healthy_production_recheck(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    world.record_pass("alpha", 42)
    world.record_pass("alpha", 98)
    world.record_recheck("alpha", 100, "fail")
    assert states(track(world, "alpha", 113))["stable?"] == "overdue"  # due 2026-04-26 = day 111
    world.record_recheck("alpha", 112, "error")
    assert states(track(world, "alpha", 113))["stable?"] == "overdue"
    healthy = world.record_recheck("alpha", 114, "warn")  # a warning is no failure: stable
    decided = {d.label: d for d in track(world, "alpha", 115).decisions}["stable?"]
    assert (decided.state, decided.entry) == ("taken", healthy.sequence)


def test_scale_reviews_fall_every_quarter_after_production_starts(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    world.record_pass("alpha", 42)
    world.record_pass("alpha", 105)  # Production from 2026-04-20: first review due 2026-07-19
    world.record_recheck("alpha", 106)
    reviews = [d for d in track(world, "alpha", 170).decisions if d.planned.kind == "scale-review"]
    assert [(d.due, d.state) for d in reviews] == [(date(2026, 7, 19), "open")]
    reviews = [d for d in track(world, "alpha", 190).decisions if d.planned.kind == "scale-review"]
    assert [(d.due, d.state) for d in reviews] == [(date(2026, 7, 19), "upcoming")]
    reviews = [d for d in track(world, "alpha", 200).decisions if d.planned.kind == "scale-review"]
    assert [(d.due, d.state, d.days_overdue) for d in reviews] == [
        (date(2026, 7, 19), "overdue", 5),
        (date(2026, 10, 18), "open", None),
    ]
    late = world.record_blocked("alpha", 201)  # the Scale gate evaluated, five days late
    reviews = [d for d in track(world, "alpha", 202).decisions if d.planned.kind == "scale-review"]
    assert [(d.due, d.state, d.entry, d.note) for d in reviews] == [
        (date(2026, 7, 19), "taken", late.sequence, "held 6 d late"),
        (date(2026, 10, 18), "open", None, reviews[1].note),
    ]
    early = world.record_blocked("alpha", 280)  # 2026-10-12: the next quarter's review, on time
    reviews = [d for d in track(world, "alpha", 281).decisions if d.planned.kind == "scale-review"]
    assert [(d.due, d.state, d.entry) for d in reviews] == [
        (date(2026, 7, 19), "taken", late.sequence),
        (date(2026, 10, 18), "taken", early.sequence),
        (date(2027, 1, 17), "open", None),
    ]


def test_without_a_start_date_the_plan_starts_at_registration_and_says_so(world: World) -> None:
    world.register("beta", 3)
    t = track(world, "beta", 10)
    assert t.plan is not None and t.plan.start == date(2026, 1, 8)
    assert t.to_json()["startSource"] == "registration"
    assert t.note == "no start date in the spec: planned from the registration on 2026-01-08"
    unplanned = track_roadmap("beta", world.session.workspace.usecases["beta"], (), world.at(10))
    assert unplanned.plan is None and unplanned.stages == () and "nothing to plan" in unplanned.note


def test_as_of_a_past_time_later_entries_do_not_count(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 20)
    t = track(world, "alpha", 16)
    assert t.stage is Stage.EXPLORE and states(t)["use case approved"] == "overdue"


def test_nightly_rechecks_are_not_all_kept(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 14)
    for day in range(15, 40):
        world.record_recheck("alpha", day)
    kept = milestones_of(world.session.ledger.state("alpha").history)
    assert [m.kind for m in kept] == ["registration", "gate", "recheck"]
