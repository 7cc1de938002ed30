"""Promoting into the stage a recorded pass entered finishes it; it never gates twice."""

from __future__ import annotations

import pytest

from gates.engine.followups import recorded_promotion
from gates.errors import PromotionRefused
from gates.stages import Stage
from tests.support.world import World


def _promoted_to_poc(world: World) -> int:
    world.register("alpha", 0)
    world.approve_exit("alpha", 9)
    outcome = world.promote("alpha", Stage.POC, 10)
    assert outcome.promoted and not outcome.resumed
    return outcome.entry.sequence


def test_promoting_again_into_the_stage_a_recorded_pass_entered_writes_nothing(
    world: World,
) -> None:
    sequence = _promoted_to_poc(world)
    # Later entries that do not move the stage (an approval toward Pilot) change nothing.
    world.approve("alpha", "sponsor", 11)  # fmt: skip
    before = world.session.ledger.state("alpha")

    again = world.promote("alpha", Stage.POC, 12)

    assert again.resumed and again.promoted
    assert again.evaluation is None
    assert again.entry.sequence == sequence
    assert again.alias is None  # the spec names no model: nothing to move
    after = world.session.ledger.state("alpha")
    assert after.entries == before.entries and after.head_digest == before.head_digest


def test_a_blocked_latest_gate_is_not_a_promotion_to_finish(world: World) -> None:
    world.register("alpha", 0)
    blocked = world.promote("alpha", Stage.POC, 10)
    assert not blocked.promoted
    state = world.session.ledger.state("alpha")
    assert state.last_gate is not None and recorded_promotion(state, Stage.POC) is None


def test_a_recorded_pass_followed_by_a_no_go_is_not_resumed(world: World) -> None:
    _promoted_to_poc(world)
    world.decide("alpha", "no-go", 11, reason="priorities changed")

    assert recorded_promotion(world.session.ledger.state("alpha"), Stage.POC) is None
    with pytest.raises(PromotionRefused, match="stopped"):
        world.promote("alpha", Stage.POC, 12)


def test_a_recorded_pass_is_finished_only_for_its_own_target(world: World) -> None:
    _promoted_to_poc(world)
    state = world.session.ledger.state("alpha")
    assert recorded_promotion(state, Stage.POC) is not None
    assert recorded_promotion(state, Stage.PILOT) is None
    assert recorded_promotion(state, Stage.EXPLORE) is None
