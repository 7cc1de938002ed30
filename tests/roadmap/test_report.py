"""The static report shows the roadmap: a Gantt on each use-case page, the portfolio on the index."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gates.report.site import write_site
from gates.stages import Stage
from tests.support.world import World

SVG = "{http://www.w3.org/2000/svg}"


def svg_with_id(page: str, chart_id: str) -> ET.Element:
    match = re.search(rf"<svg[^>]*aria-labelledby='{chart_id}-title.*?</svg>", page, re.S)
    assert match, f"no chart {chart_id}"
    return ET.fromstring(match.group(0))


def test_report_has_the_portfolio_gantt_and_a_gantt_per_use_case(world: World) -> None:
    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)
    world.register("beta", 2)
    out = world.root.parent / "site"
    write_site(world.session, out, world.at(45))
    index = (out / "index.html").read_text("utf-8")
    portfolio = svg_with_id(index, "roadmap-portfolio")
    names = {t.text for t in portfolio.iter(f"{SVG}text")}
    assert {"alpha", "beta", "1 overdue decision(s)", "2 overdue decision(s)"} <= names
    page = (out / "usecases" / "alpha.html").read_text("utf-8")
    chart = svg_with_id(page, "uc-roadmap")
    assert {"Explore", "PoC", "Pilot", "Production", "W6 overdue"} <= {
        t.text for t in chart.iter(f"{SVG}text")
    }
    assert "planned from start_date 2026-01-05" in page
    assert "Decisions of the roadmap (1 overdue)" in page
    beta = (out / "usecases" / "beta.html").read_text("utf-8")
    assert "no start date in the spec: planned from the registration on 2026-01-07" in beta


def test_index_rows_get_roadmap_facts_although_the_index_keeps_no_entries(
    world: World,
) -> None:
    from gates.report.index_page import index_view

    world.register("alpha", 0)
    world.promote_approved("alpha", Stage.POC, 10)
    rows = {r.id: r for r in index_view(world.session, world.at(45)).rows}
    roadmap = rows["alpha"].roadmap
    assert roadmap is not None and roadmap.slip_days == 3
    assert [d.label for d in roadmap.overdue] == ["go to Pilot?"]
