"""A night's steps outside Prefect: whom and when, the batches, a failed batch, the summary."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

import pytest

from gates.recheck.night import (
    NightTally,
    RecheckedBatch,
    batch_label,
    batch_outcomes,
    batches,
    night_summary,
    night_table,
    recheck_batch,
)
from gates.recheck.run import RecheckOutcome, plan_night
from gates.results import CheckResult, Status
from gates.stages import Stage
from tests.support.presets import add_monitored
from tests.support.world import World


def test_batches_are_even_contiguous_and_bounded() -> None:
    ids = [f"uc-{i}" for i in range(10)]
    assert batches(ids, 100) == [[uc] for uc in ids]
    split = batches(ids, 3)
    assert [len(b) for b in split] == [4, 3, 3] and [uc for b in split for uc in b] == ids
    assert batches([], 5) == []
    assert batch_label(split[0]) == "uc-0..uc-3" and batch_label(["solo"]) == "solo"


def test_a_batch_that_ended_without_outcomes_is_an_error_for_each_of_its_use_cases() -> None:
    crashed = batch_outcomes(["a", "b"], RuntimeError("worker lost"))
    odd = batch_outcomes(["c"], {"not": "outcomes"})

    assert [(o.usecase, o.verdict, o.message) for o in crashed] == [
        ("a", "error", "task failed: worker lost"),
        ("b", "error", "task failed: worker lost"),
    ]
    assert [(o.usecase, o.verdict) for o in odd] == [("c", "error")]
    assert odd[0].message == "task failed: task returned {'not': 'outcomes'}"


def test_a_batch_s_outcomes_come_back_from_the_one_object_its_task_returns() -> None:
    """Batch tasks return one ``RecheckedBatch`` (one object for Prefect to link, and to
    pickle back from a Dask worker); a bare list of outcomes is not what a task returns."""
    import pickle

    outcomes = [RecheckOutcome("a", "poc", "ok"), RecheckOutcome("b", "pilot", "warn")]
    returned = pickle.loads(pickle.dumps(RecheckedBatch(outcomes)))

    assert batch_outcomes(["a", "b"], returned) == outcomes
    assert repr(returned) == "RecheckedBatch(2 use case(s))"
    bare = batch_outcomes(["a", "b"], outcomes)
    assert [(o.usecase, o.verdict) for o in bare] == [("a", "error"), ("b", "error")]


def test_a_night_on_a_simulated_clock_judges_every_use_case_at_the_night_s_time(
    world: World,
) -> None:
    add_monitored(world, "bot")
    add_monitored(world, "svc")
    world.advance("bot", Stage.POC)
    at = world.at(20)

    night = plan_night(world.session, at=at)
    outcomes = recheck_batch(world.session, list(night.usecases), night.per_usecase)

    assert night.at == at and night.per_usecase == at
    assert night.usecases == ("bot", "svc")  # every chain and every spec, sorted
    bot, svc = outcomes
    assert bot.verdict != "error" and bot.entry is not None
    assert (svc.verdict, svc.message) == ("skipped", "not registered")
    entry = world.session.ledger.state("bot").history[-1]
    assert entry.predicate.kind == "recheck" and entry.predicate.time == at
    summary = night_summary(outcomes)
    assert summary["counts"] == {bot.verdict: 1, "skipped": 1}
    assert [row["use case"] for row in night_table(outcomes)] == ["bot", "svc"]


def test_a_batch_keeps_only_the_checks_that_did_not_pass_and_lets_go_of_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a use case's entry is written, a night holds its verdict and problems only:
    the checks that passed (and the evaluation behind them) are released."""
    import gates.recheck.run as run

    add_monitored(world, "bot")
    add_monitored(world, "svc")
    world.advance("bot", Stage.POC)
    world.advance("svc", Stage.POC)
    passed: list[weakref.ref[CheckResult]] = []
    evaluations: list[weakref.ref[run.RecheckEvaluation]] = []
    evaluate = run.evaluate_recheck

    def watched(*args: Any, **kwargs: Any) -> run.RecheckEvaluation:
        evaluation = evaluate(*args, **kwargs)
        evaluations.append(weakref.ref(evaluation))
        passed.extend(weakref.ref(r) for r in evaluation.results if r.status is Status.PASS)
        return evaluation

    monkeypatch.setattr(run, "evaluate_recheck", watched)
    outcomes = recheck_batch(world.session, ["bot", "svc"], world.at(60))
    gc.collect()

    assert len(evaluations) == 2 and passed, "both use cases evaluated, some checks passed"
    assert [ref() for ref in evaluations] == [None, None]
    assert [ref() for ref in passed] == [None] * len(passed)
    for outcome in outcomes:
        assert outcome.results == outcome.problems
        entry = world.session.ledger.state(outcome.usecase).history[-1]
        signed = entry.predicate.recheck
        assert signed is not None and outcome.entry == entry.key
        kept = [r.check for r in outcome.results]
        assert kept == [c.check for c in signed.checks if c.status in ("warn", "fail", "error")]
        assert len(signed.checks) > len(kept)  # the entry holds every check


def test_a_night_tally_keeps_each_use_case_s_line_and_row_but_not_its_outcome() -> None:
    """Batches are folded in as they end: the night's summary and table are the same as
    from every outcome at once, and no outcome (nor its checks) outlives its batch."""
    late = CheckResult("time-box", "recheck", Status.FAIL, "decision overdue", "day 50", "day 42")
    first = [
        RecheckOutcome("bot", "poc", "fail", (late,), "chains/bot/3", 3),
        RecheckOutcome("gone", "stopped", "skipped", message="stopped: nothing to re-check"),
    ]
    second = [RecheckOutcome("svc", "production", "ok", (), "chains/svc/9", 9, "sent")]
    expected_summary, expected_table = night_summary(first + second), night_table(first + second)
    kept = [weakref.ref(o) for o in first + second] + [weakref.ref(late)]

    tally = NightTally()
    tally.add(first)
    tally.add(second)
    del first, second, late
    gc.collect()

    assert tally.summary() == expected_summary and tally.table.rows() == expected_table
    assert tally.table.text() == json.dumps(expected_table)  # as the artifact was written
    assert tally.counts == {"fail": 1, "skipped": 1, "ok": 1}
    assert [ref() for ref in kept] == [None] * 4


def test_a_night_summary_s_repr_is_one_line_however_many_use_cases() -> None:
    """The summary is a dict as before; only its repr (formatted by Prefect and asyncio as a
    night ends) stays one short line instead of every outcome."""
    outcomes = [
        RecheckOutcome(f"uc-{i}", "poc", "ok", (), f"chains/uc-{i}/2", 2) for i in range(500)
    ]
    summary = night_summary(outcomes)
    assert summary == {
        "counts": {"ok": 500},
        "healthFailed": [],
        "outcomes": [o.to_json() for o in outcomes],
    }
    assert json.loads(json.dumps(summary))["counts"] == {"ok": 500}
    assert repr(summary) == "NightSummary(500 use case(s): 500 ok)"
