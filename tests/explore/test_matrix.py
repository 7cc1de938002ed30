"""The priority matrix SVG: well-formed, complete, escaped, and readable without colour."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

from gates.explore.matrix import priority_matrix_svg
from gates.explore.scoring import score_file
from tests.support.candidates import CANDIDATES, write_yaml

SVG = "{http://www.w3.org/2000/svg}"


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_the_standalone_matrix_is_well_formed_and_shows_every_candidate(
    candidates_file: Path, tmp_path: Path
) -> None:
    ranking = score_file(candidates_file)
    out = tmp_path / "matrix.svg"
    out.write_text(priority_matrix_svg(ranking, standalone=True), encoding="utf-8")
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg" and root.get("width") == "760"
    shown = texts(root)
    for s in ranking.ranked:
        assert s.id in shown, s.id  # the marker label
        assert any(t.startswith(f"{s.rank}. {s.id} (") for t in shown)  # the numbered list
    for quadrant in ("QUICK WIN", "STRATEGIC BET", "MOONSHOT", "DEPRIORITISE"):
        assert quadrant in shown
    assert not list(root.iter(f"{SVG}script"))


def test_each_marker_carries_its_rank_and_a_tooltip(candidates_file: Path) -> None:
    ranking = score_file(candidates_file)
    root = ET.fromstring(priority_matrix_svg(ranking))
    tips = [g.findtext(f"{SVG}title") or "" for g in root.iter(f"{SVG}g")]
    for s in ranking.ranked:
        assert any(tip.startswith(f"{s.rank}. {s.id} ") and s.quadrant.label in tip for tip in tips)


def test_selected_candidates_get_a_second_ring_and_the_word(candidates_file: Path) -> None:
    ranking = score_file(candidates_file)
    plain = ET.fromstring(priority_matrix_svg(ranking))
    chosen = ET.fromstring(priority_matrix_svg(ranking, selected={"alpha"}))
    rings = len(list(chosen.iter(f"{SVG}circle"))) - len(list(plain.iter(f"{SVG}circle")))
    assert rings == 1
    assert any(t.startswith("1. alpha") and t.endswith("selected") for t in texts(chosen))
    assert not any(t.endswith("selected") for t in texts(plain))


def test_candidate_text_is_escaped(tmp_path: Path) -> None:
    rows = copy.deepcopy(CANDIDATES)
    rows[0]["title"] = "<script>alert('x')</script> & co"
    ranking = score_file(write_yaml(tmp_path / "c.yaml", rows))
    svg = priority_matrix_svg(ranking)
    assert "<script" not in svg
    root = ET.fromstring(svg)  # still well-formed
    assert any("<script>alert('x')</script> & co" in t for t in texts(root))
