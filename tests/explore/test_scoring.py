"""Scoring and ranking: deterministic, explained, and shaped by the playbook and the weights."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates.errors import ConfigError
from gates.explore.candidates import load_candidates
from gates.explore.rules import CRITERIA, LEVELS, TIE_BREAK, default_rules
from gates.explore.scoring import Ranking, effective_rules, rank_candidates, score_file
from tests.support.candidates import CANDIDATES, EXPECTED_ORDER, write_yaml


def rows() -> list[dict[str, Any]]:
    return copy.deepcopy(CANDIDATES)


def ranked_ids(ranking: Ranking) -> list[str]:
    return [s.id for s in ranking.ranked]


def twin(candidate_id: str, **levels: str) -> dict[str, Any]:
    base = {
        "id": candidate_id,
        "title": f"{candidate_id} title",
        "department": "ops",
        "owner": "o@example.com",
        "impact": "medium",
        "complexity": "low",
        "data": "structured_accessible",
        "measurability": "clear_metric",
        "stakeholders": "cooperative",
    }
    return {**base, **levels}


def test_the_sample_ranks_as_the_playbook_would(candidates_file: Path) -> None:
    ranking = score_file(candidates_file)
    assert ranked_ids(ranking) == EXPECTED_ORDER
    top = ranking.ranked[0]
    assert (top.rank, top.score, top.feasibility, top.quadrant.label) == (
        1,
        100.0,
        1.0,
        "quick win",
    )
    assert [s.quadrant.label for s in ranking.ranked] == [
        "quick win", "quick win", "strategic bet", "moonshot", "moonshot"
    ]  # fmt: skip


def test_same_input_gives_the_same_ranking_and_digest(candidates_file: Path) -> None:
    first, second = score_file(candidates_file), score_file(candidates_file)
    assert first == second
    assert first.to_json() == second.to_json()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(range(len(CANDIDATES))))
def test_ranking_and_digest_do_not_depend_on_file_order(tmp_path: Path, order: list[int]) -> None:
    reference = score_file(write_yaml(tmp_path / "ref.yaml", rows()))
    shuffled = score_file(write_yaml(tmp_path / "shuffled.yaml", [rows()[i] for i in order]))
    assert ranked_ids(shuffled) == ranked_ids(reference)
    assert shuffled.digest == reference.digest
    assert [s.score for s in shuffled.ranked] == [s.score for s in reference.ranked]


def test_medium_impact_outranks_an_otherwise_identical_very_high_impact(tmp_path: Path) -> None:
    data = [twin("aa-bold", impact="very_high"), twin("zz-modest", impact="medium"),
            twin("mm-other", complexity="high")]  # fmt: skip
    ranking = score_file(write_yaml(tmp_path / "c.yaml", data))
    bold, modest = ranking.get("aa-bold"), ranking.get("zz-modest")
    assert bold is not None and modest is not None
    assert modest.rank < bold.rank and modest.score > bold.score
    assert bold.feasibility == modest.feasibility  # only impact differs
    why = bold.criterion("impact").explanation
    assert "very high impact is risky" in why and "penalised" in why
    assert "medium impact is the best start" in modest.criterion("impact").explanation
    assert bold.quadrant.label == "strategic bet" and modest.quadrant.label == "quick win"


def test_impact_is_not_monotone() -> None:
    impact = default_rules().levels["impact"]
    assert impact["medium"].score > impact["high"].score > impact["very_high"].score
    assert impact["medium"].score > impact["low"].score


def test_weights_change_the_ranking_as_expected(tmp_path: Path) -> None:
    # "bold" has the better impact (high beats low); "safe" is easier in every other way.
    data = [twin("bold", impact="high", complexity="medium", data="structured_restricted"),
            twin("safe", impact="low"), twin("third", impact="low", stakeholders="resistant")]  # fmt: skip
    default = score_file(write_yaml(tmp_path / "d.yaml", data))
    assert ranked_ids(default)[:2] == ["safe", "bold"]
    impact_heavy = score_file(write_yaml(tmp_path / "w.yaml", data, weights={"impact": 5}))
    assert ranked_ids(impact_heavy)[:2] == ["bold", "safe"]
    assert impact_heavy.rules.weights["impact"] == 5 and impact_heavy.digest != default.digest


def test_the_file_weights_override_the_settings_weights(tmp_path: Path) -> None:
    loaded = load_candidates(write_yaml(tmp_path / "c.yaml", rows(), weights={"data": 0.5}))
    rules = effective_rules(loaded, {"data": 0.1, "impact": 0.9})
    assert rules.weights["data"] == 0.5 and rules.weights["impact"] == 0.9
    assert rules.weights["complexity"] == default_rules().weights["complexity"]


def test_the_total_is_the_sum_of_the_weighted_points(candidates_file: Path) -> None:
    for s in score_file(candidates_file).ranked:
        assert sum(c.points for c in s.criteria) == pytest.approx(s.score, abs=0.05)
        assert [c.criterion for c in s.criteria] == list(CRITERIA)
        assert all(0 <= c.score <= 1 and c.explanation for c in s.criteria)


def test_ties_are_broken_by_feasibility_then_id(tmp_path: Path) -> None:
    data = [twin("b-twin"), twin("a-twin"), twin("c-other", complexity="medium")]
    ranking = score_file(write_yaml(tmp_path / "c.yaml", data))
    assert ranked_ids(ranking) == ["a-twin", "b-twin", "c-other"]
    assert ranking.to_json()["tieBreak"] == TIE_BREAK


def test_feasibility_is_the_weighted_mean_of_the_four_other_criteria(candidates_file: Path) -> None:
    gamma = score_file(candidates_file).get("gamma")
    assert gamma is not None
    w = default_rules().weights
    expected = (
        w["complexity"] * 0.75 + w["data"] * 0.5 + w["measurability"] * 1 + w["stakeholders"] * 1
    ) / (w["complexity"] + w["data"] + w["measurability"] + w["stakeholders"])
    assert gamma.feasibility == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({"impakt": 1}, "weights.impakt: unknown criterion"),
        ({"data": -1}, "weights.data: must be a finite number ≥ 0"),
        ({"data": "lots"}, "weights.data: expected a number"),
        ({c: 0 for c in CRITERIA}, "at least one criterion needs a positive weight"),
        ({"complexity": 0, "data": 0, "measurability": 0, "stakeholders": 0},
         "feasibility is their weighted mean"),
    ],
)  # fmt: skip
def test_bad_weights_are_refused_naming_the_file(
    tmp_path: Path, weights: dict[str, Any], expected: str
) -> None:
    path = write_yaml(tmp_path / "c.yaml", rows(), weights=weights)
    with pytest.raises(ConfigError) as caught:
        score_file(path)
    assert expected in caught.value.diagnostics() and str(path) in caught.value.diagnostics()


def test_shipped_levels_cover_exactly_the_level_names() -> None:
    rules = default_rules()
    for criterion in CRITERIA:
        assert set(rules.levels[criterion]) == set(LEVELS[criterion])
    assert sum(rules.weights.values()) == pytest.approx(1.0)


def test_json_shape_is_stable(candidates_file: Path) -> None:
    data = rank_candidates(load_candidates(candidates_file)).to_json()
    assert set(data) == {"file", "candidatesDigest", "weights", "feasibleAt", "feasibility",
                         "tieBreak", "candidates"}  # fmt: skip
    first = data["candidates"][0]
    assert set(first) == {"rank", "id", "title", "department", "owner", "sponsors", "score",
                          "feasibility", "quadrant", "criteria", "placement", "notes"}  # fmt: skip
    assert set(first["criteria"]) == set(CRITERIA)
    assert set(first["criteria"]["impact"]) == {"level", "score", "weight", "points", "explanation"}
