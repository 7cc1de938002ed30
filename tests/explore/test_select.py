"""Selecting candidates: starter specs, signed registrations that carry the selection record."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.errors import ConfigError, PromotionRefused
from gates.explore.selection import select, workspace_ranking
from gates.ledger.entry import entry_key
from gates.ledger.verify import verify_ledger
from gates.stages import Stage
from gates.workspace.loader import load_usecase
from gates.workspace.session import Session
from tests.support.world import T0

RATIONALE = "Medium impact, clear metric, cooperative team"


def test_select_registers_each_use_case_with_its_selection_record(explore_ws: Path) -> None:
    outcome = select(Session.open(explore_ws), ["alpha", "gamma"], rationale=RATIONALE, now=T0)
    assert [s.usecase for s in outcome.selected] == ["alpha", "gamma"]
    assert outcome.warnings == ()
    session = Session.open(explore_ws)  # read back from the store, verified
    ranking = workspace_ranking(session)
    for usecase, rank in (("alpha", 1), ("gamma", 2)):
        state = session.ledger.state(usecase)
        assert state.stage is Stage.EXPLORE and state.entries == 1
        entry = state.history[0]
        assert entry.predicate.kind == "registration" and entry.predicate.time == T0
        record = entry.predicate.selection
        assert record is not None
        assert record.candidates_digest == ranking.digest
        assert (record.rank, record.of, record.rationale) == (rank, 5, RATIONALE)
        assert record.score == ranking.ranked[rank - 1].score
        assert set(record.criteria) == {
            "impact", "complexity", "data", "measurability", "stakeholders", "feasibility"
        }  # fmt: skip
        assert record.criteria["impact"]["explanation"].startswith("medium impact")
        assert record.criteria["feasibility"]["quadrant"] == "quick win"
    assert verify_ledger(session.ledger).intact


def test_a_starter_spec_is_written_only_when_none_exists(explore_ws: Path) -> None:
    alpha_spec = (explore_ws / "usecases" / "alpha.yaml").read_text()
    outcome = select(Session.open(explore_ws), ["alpha", "gamma"], rationale=RATIONALE, now=T0)
    written = {s.usecase: s.spec_written for s in outcome.selected}
    assert written == {"alpha": None, "gamma": explore_ws / "usecases" / "gamma.yaml"}
    assert (explore_ws / "usecases" / "alpha.yaml").read_text() == alpha_spec
    spec = load_usecase(explore_ws / "usecases" / "gamma.yaml")
    assert (spec.title, spec.owner, spec.department) == (
        "Gamma extraction", "gamma@example.com", "finance"
    )  # fmt: skip
    assert [(s.name, s.title) for s in spec.sponsors] == [("Lee Moreau", "CFO"), ("Dana Park", "")]
    assert spec.evidence.deliverables == {"candidate_list": "explore/candidates.yaml"}
    # The registration locked Explore's criteria from that very spec.
    entry = Session.open(explore_ws).ledger.state("gamma").history[0]
    assert entry.predicate.lock is not None and entry.predicate.spec_digest


def test_more_than_two_is_refused_without_force_and_nothing_is_written(explore_ws: Path) -> None:
    session = Session.open(explore_ws)
    with pytest.raises(PromotionRefused, match="selects 1–2") as caught:
        select(session, ["alpha", "gamma", "delta"], rationale=RATIONALE, now=T0)
    assert "--force" in caught.value.diagnostics()
    assert session.ledger.usecases() == []
    assert not (explore_ws / "usecases" / "gamma.yaml").exists()


def test_more_than_two_with_force_warns_and_registers_all(explore_ws: Path) -> None:
    outcome = select(
        Session.open(explore_ws), ["alpha", "gamma", "delta"], rationale=RATIONALE, force=True
    )
    assert len(outcome.selected) == 3
    assert any("3 use cases selected" in w for w in outcome.warnings)
    assert any("delta is ranked 3 of 5" in w for w in outcome.warnings)


def test_unknown_ids_name_the_file_and_the_known_candidates(explore_ws: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        select(Session.open(explore_ws), ["alpha", "omega"], rationale=RATIONALE)
    message = caught.value.diagnostics()
    assert "'omega' is not among the scored candidates" in message
    assert "candidates.yaml" in message and "alpha, gamma, delta" in message
    assert Session.open(explore_ws).ledger.usecases() == []


@pytest.mark.parametrize(
    ("ids", "rationale", "expected"),
    [
        (["alpha", "alpha"], RATIONALE, "named more than once"),
        (["alpha"], "   ", "rationale must not be empty"),
        ([], RATIONALE, "at least one candidate"),
    ],
)
def test_bad_requests_are_refused(
    explore_ws: Path, ids: list[str], rationale: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        select(Session.open(explore_ws), ids, rationale=rationale)


def test_an_already_registered_use_case_is_refused_before_anything_is_written(
    explore_ws: Path,
) -> None:
    from gates.engine.actions import register

    register(Session.open(explore_ws), "alpha", now=T0)
    with pytest.raises(PromotionRefused, match="alpha: already registered"):
        select(Session.open(explore_ws), ["gamma", "alpha"], rationale=RATIONALE)
    assert not (explore_ws / "ledger" / entry_key("gamma", 0)).exists()
    assert not (explore_ws / "usecases" / "gamma.yaml").exists()


def test_register_without_a_selection_records_none(explore_ws: Path) -> None:
    from gates.engine.actions import register

    entry = register(Session.open(explore_ws), "beta", now=T0)
    assert entry.predicate.selection is None
