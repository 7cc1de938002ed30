"""Reading candidates files: YAML and CSV agree, and every bad file gets one clear message."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gates.errors import ConfigError
from gates.explore.candidates import load_candidates
from gates.explore.scoring import rank_candidates
from tests.support.candidates import CANDIDATES, write_csv, write_yaml


def rows() -> list[dict[str, object]]:
    return copy.deepcopy(CANDIDATES)


def problems_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_candidates(path)
    message = caught.value.diagnostics()
    assert str(path) in message
    return message


def test_yaml_and_csv_with_the_same_candidates_load_alike_and_share_a_digest(
    tmp_path: Path,
) -> None:
    from_yaml = load_candidates(write_yaml(tmp_path / "c.yaml", rows()))
    from_csv = load_candidates(write_csv(tmp_path / "c.csv", rows()))
    assert from_yaml.candidates == from_csv.candidates
    assert rank_candidates(from_yaml).digest == rank_candidates(from_csv).digest


def test_sponsors_are_parsed_from_name_and_title(candidates_file: Path) -> None:
    gamma = load_candidates(candidates_file).get("gamma")
    assert gamma is not None
    assert [(s.name, s.title) for s in gamma.sponsors] == [("Lee Moreau", "CFO"), ("Dana Park", "")]


def test_level_names_accept_spaces_hyphens_and_case(tmp_path: Path) -> None:
    data = rows()
    data[0].update(impact="Medium", data="structured+accessible", measurability="clear metric")
    data[2].update(impact="very-high")
    loaded = load_candidates(write_yaml(tmp_path / "c.yaml", data))
    alpha, delta = loaded.get("alpha"), loaded.get("delta")
    assert alpha is not None and delta is not None
    assert (alpha.impact, alpha.data, alpha.measurability) == (
        "medium",
        "structured_accessible",
        "clear_metric",
    )
    assert delta.impact == "very_high"


def test_a_missing_field_names_the_entry_its_id_and_the_field(tmp_path: Path) -> None:
    data = rows()
    del data[1]["owner"]
    message = problems_of(write_yaml(tmp_path / "c.yaml", data))
    assert "entry 2 (id 'gamma'): owner: required field is missing" in message


def test_an_unknown_level_lists_the_known_ones(tmp_path: Path) -> None:
    data = rows()
    data[3]["impact"] = "huge"
    message = problems_of(write_yaml(tmp_path / "c.yaml", data))
    assert "entry 4 (id 'epsilon'): impact: 'huge' is not a known level" in message
    assert "low, medium, high, very_high" in message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    data = rows()
    data[0]["stakeholders"] = "hostile"
    data[4]["colour"] = "blue"
    message = problems_of(write_yaml(tmp_path / "c.yaml", data))
    assert "entry 1 (id 'alpha'): stakeholders:" in message
    assert "entry 5 (id 'zeta'): colour: unknown field" in message


def test_a_bad_id_shape_is_refused(tmp_path: Path) -> None:
    data = rows()
    data[0]["id"] = "Alpha Bot"
    message = problems_of(write_yaml(tmp_path / "c.yaml", data))
    assert "'Alpha Bot' is not a use-case id" in message


def test_duplicate_ids_are_refused_naming_both_places(tmp_path: Path) -> None:
    data = rows()
    data[3]["id"] = "alpha"
    message = problems_of(write_yaml(tmp_path / "c.yaml", data))
    assert "entry 4 (id 'alpha'): duplicate id 'alpha' (also entry 1)" in message
    csv_message = problems_of(write_csv(tmp_path / "c.csv", data))
    assert "line 5 (id 'alpha'): duplicate id 'alpha' (also line 2)" in csv_message


@pytest.mark.parametrize("count", [0, 1, 2])
def test_fewer_than_three_candidates_cite_the_playbook(tmp_path: Path, count: int) -> None:
    message = problems_of(write_yaml(tmp_path / "c.yaml", rows()[:count]))
    assert f"{count} candidate(s); at least 3 are needed" in message
    assert "3–5 candidates" in message


def test_three_candidates_are_enough(tmp_path: Path) -> None:
    assert len(load_candidates(write_yaml(tmp_path / "c.yaml", rows()[:3])).candidates) == 3


def test_csv_with_a_short_row_names_the_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", rows())
    lines = path.read_text().splitlines()
    lines[3] = ",".join(lines[3].split(",")[:5])
    path.write_text("\n".join(lines) + "\n")
    assert "line 4: 5 fields where the header has 11" in problems_of(path)


def test_csv_with_an_unknown_or_missing_column_says_what_the_header_should_be(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "c.csv", rows())
    text = path.read_text().replace("impact,", "impakt,", 1)
    path.write_text(text)
    message = problems_of(path)
    assert "header: unknown column 'impakt'" in message
    assert "header: required column 'impact' is missing" in message
    assert "hint: the header row is: id,title,department,owner,sponsors,impact" in message


def test_csv_with_an_unterminated_quote_is_not_valid_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", rows())
    path.write_text(path.read_text() + 'omega,"Omega bot\n')
    assert "not valid CSV" in problems_of(path)


def test_an_empty_csv_asks_for_a_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("")
    assert "empty file; expected a header row" in problems_of(path)


def test_an_empty_csv_cell_counts_as_missing(tmp_path: Path) -> None:
    data = rows()
    data[2]["title"] = ""
    message = problems_of(write_csv(tmp_path / "c.csv", data))
    assert "line 4 (id 'delta'): title: required field is missing" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("candidates: [", "not valid YAML"),
        ("- id: a\n", "expected a mapping with candidates:"),
        ("candidates: {}\n", "candidates: expected a mapping with candidates:"),
        ("candidates: []\nextra: 1\n", "extra: unknown field"),
        ("candidates: []\nweights: [1]\n", "weights: expected a mapping"),
    ],
)
def test_malformed_yaml_shapes_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert expected in problems_of(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("candidates:\n- id: a\n  notes: 2026-02-30\n", "candidates.0.notes: '2026-02-30' is not"),
        ("candidates: []\n? [impact, data]\n: 1\n", "a sequence used as a key"),
        ("candidates: []\nweights: {impact: 1" + "0" * 5000 + "}\n", "weights.impact: an integer"),
        ("candidates: []\nweights: {impact: .nan}\n", "weights.impact: nan is not a finite"),
    ],
)
def test_hostile_yaml_values_are_named_not_a_crash(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert expected in problems_of(path)


def test_missing_file_and_unknown_extension_are_clear(tmp_path: Path) -> None:
    assert "candidates file not found" in problems_of(tmp_path / "nope.yaml")
    other = tmp_path / "c.json"
    other.write_text("{}")
    assert "unsupported file type '.json'" in problems_of(other)


def test_a_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,title\n\xff\xfe,x\n")
    assert "not UTF-8 text" in problems_of(path)
