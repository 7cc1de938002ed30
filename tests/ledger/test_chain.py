"""The chain: stages derived by replay, illegal moves refused, concurrent writers never fork."""

from __future__ import annotations

import threading

import pytest

from gates.engine.actions import approve
from gates.errors import EntryExistsError, LedgerError, PromotionRefused
from gates.ledger.entry import entry_key
from gates.results import Verdict
from gates.stages import Stage
from tests.support.world import World


def test_registration_enters_explore_and_locks_its_exit_criteria(world: World) -> None:
    entry = world.register("alpha", 0)
    state = world.session.ledger.state("alpha")
    assert entry.sequence == 0 and entry.predicate.previous is None
    assert state.stage is Stage.EXPLORE
    assert state.lock is not None and state.lock.stage == "explore"
    assert state.lock.digest.startswith("sha256:")


def test_registering_twice_is_refused(world: World) -> None:
    world.register("alpha", 0)
    with pytest.raises(PromotionRefused, match="already registered"):
        world.register("alpha", 1)


def test_gate_passes_with_approvals_and_moves_to_poc(world: World) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 9)
    outcome = world.promote("alpha", Stage.POC, 10)
    assert outcome.evaluation.verdict is Verdict.PASS, [
        r for r in outcome.evaluation.results if r.status.blocks
    ]
    state = world.session.ledger.state("alpha")
    assert state.stage is Stage.POC
    assert state.lock is not None and state.lock.stage == "poc"
    assert state.entered_at == world.at(10)


def test_gate_without_budget_approval_is_blocked_and_stage_unchanged(world: World) -> None:
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 9)
    outcome = world.promote("alpha", Stage.POC, 10)
    assert outcome.evaluation.verdict is Verdict.BLOCKED
    failing = {r.check for r in outcome.evaluation.failing}
    assert failing == {"approval:budget_owner"}
    assert world.session.ledger.state("alpha").stage is Stage.EXPLORE
    assert (
        outcome.entry.predicate.gate is not None
        and outcome.entry.predicate.gate.verdict == "blocked"
    )


def test_skipping_a_stage_is_refused_and_nothing_is_written(world: World) -> None:
    world.register("alpha", 0)
    with pytest.raises(PromotionRefused, match="one at a time"):
        world.promote("alpha", Stage.PRODUCTION, 3)
    assert [seq for seq, _ in world.session.ledger.entry_keys("alpha")] == [0]
    assert world.session.ledger.state("alpha").stage is Stage.EXPLORE


def test_approval_by_a_key_without_the_role_is_refused(world: World) -> None:
    world.register("alpha", 0)
    with pytest.raises(PromotionRefused, match="may not sign as 'budget_owner'"):
        approve(
            world.session,
            "alpha",
            world.sponsor,
            role="budget_owner",
            now=world.at(1),
        )
    with pytest.raises(PromotionRefused, match="not in the trusted-key list"):
        approve(
            world.session,
            "alpha",
            world.outsider,
            role="sponsor",
            now=world.at(1),
        )
    assert len(world.session.ledger.entry_keys("alpha")) == 1


def test_no_go_stops_the_use_case_for_good(world: World) -> None:
    world.register("beta", 0)
    world.decide("beta", "no-go", 5, reason="data not accessible")
    assert world.session.ledger.state("beta").stage is Stage.STOPPED
    with pytest.raises(PromotionRefused, match="stopped"):
        world.promote("beta", Stage.POC, 6)


def test_back_dated_entries_are_refused(world: World) -> None:
    world.register("alpha", 5)
    with pytest.raises(LedgerError, match="behind the chain head"):
        world.decide("alpha", "no-go", 1, reason="x")


def test_twenty_concurrent_promotions_write_one_entry_per_sequence(
    anywhere: World,
) -> None:
    world = anywhere
    world.register("alpha", 0)
    world.approve_exit("alpha", 9)
    barrier = threading.Barrier(20)
    outcomes: list[object] = []
    lock = threading.Lock()

    def racer() -> None:
        session = type(world.session).open(world.root)  # each writer has its own session
        state = session.ledger.state("alpha")
        from gates.engine.actions import record_gate
        from gates.engine.gate import evaluate_gate

        evaluation = evaluate_gate(session.workspace, state, "alpha", Stage.POC, world.at(10))
        barrier.wait()
        try:
            record_gate(session, state, evaluation)
            result: object = "won"
        except EntryExistsError as e:
            result = e
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=racer) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1
    losers = [o for o in outcomes if isinstance(o, EntryExistsError)]
    assert len(losers) == 19 and all("another writer" in str(e) for e in losers)
    keys = world.session.ledger.entry_keys("alpha")
    assert [seq for seq, _ in keys] == [0, 1, 2, 3]
    replayed = world.session.ledger.replay("alpha")
    assert replayed.intact and replayed.state.stage is Stage.POC
    assert world.session.store.exists(entry_key("alpha", 3))
    assert not world.session.store.exists(entry_key("alpha", 4))
