"""`stagegate scale review`: JSON shape and values, bad quarters, and the HTML page's charts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.scale.expected import QUARTERS, expected_quarter
from tests.scale.ledger_plan import Generated

STAGEGATE = [sys.executable, "-m", "gates.cli"]
AT = "2027-01-02T00:00:00Z"
SVG = "{http://www.w3.org/2000/svg}"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run([*STAGEGATE, *args], capture_output=True, text=True, env=env, timeout=120)


def svgs(html: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML (a parse error fails the test)."""
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_review_json_has_goals_and_every_quarter(generated: Generated) -> None:
    result = run("--workspace", str(generated.root), "scale", "review", "--quarter", "2026Q4",
                 "--at", AT, "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    assert set(review) == {"quarter", "start", "end", "complete", "productionGoal", "goals",
                           "quarters", "asOf", "page"}  # fmt: skip
    assert (review["quarter"], review["complete"], review["productionGoal"]) == ("2026Q4", True, 2)
    assert review["start"].startswith("2026-10-01") and review["end"].startswith("2027-01-01")
    assert review["page"] is None
    assert set(review["goals"]) == {
        "productionUseCases",
        "departmentShare",
        "exploreToProductionDays",
        "monthlyCost:USD",
        "componentReuse",
    }
    for goal in review["goals"].values():
        assert set(goal) == {"label", "goal", "value", "previous", "trend", "met", "unit"}

    plans = generated.plans
    q4, q3 = expected_quarter(plans, 2026, 4), expected_quarter(plans, 2026, 3)
    produced = review["goals"]["productionUseCases"]
    assert produced["value"] == len(q4.arrivals) and produced["previous"] == len(q3.arrivals)
    assert produced["met"] is (len(q4.arrivals) >= 2)
    days = review["goals"]["exploreToProductionDays"]
    assert days["value"] == pytest.approx(q4.median_days)
    assert days["previous"] == pytest.approx(q3.median_days)
    assert days["met"] is (q4.median_days < q3.median_days)  # type: ignore[operator]

    assert [q["quarter"] for q in review["quarters"]] == [f"{y}Q{n}" for y, n in QUARTERS]
    for row, (year, number) in zip(review["quarters"], QUARTERS, strict=True):
        want = expected_quarter(plans, year, number)
        assert row["productionUseCases"] == len(want.arrivals)
        assert row["departments"] == len(want.departments)
        assert row["departmentsInProduction"] == len(want.in_production)
        assert sorted(a["useCase"] for a in row["arrivals"]) == want.arrivals


def test_review_table_names_the_quarter_and_each_goal(generated: Generated) -> None:
    result = run("--workspace", str(generated.root), "scale", "review", "--quarter", "2026q3",
                 "--at", AT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Scale review 2026Q3 (complete)" in result.stdout
    for words in ("New use cases reaching Production", "Share of departments",
                  "Median days from Explore to Production", "Quarter by quarter"):  # fmt: skip
        assert words in result.stdout


@pytest.mark.parametrize("bad", ["2026Q5", "2026Q0", "26Q1", "2026-Q1", "Q4 2026", ""])
def test_a_malformed_quarter_is_one_clear_error_exit_2(generated: Generated, bad: str) -> None:
    result = run("--workspace", str(generated.root), "scale", "review", "--quarter", bad)
    assert result.returncode == 2
    assert "--quarter" in result.stderr and "YYYYQn" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_quarter_that_has_not_started_is_refused(generated: Generated) -> None:
    result = run("--workspace", str(generated.root), "scale", "review", "--quarter", "2027Q2",
                 "--at", AT)  # fmt: skip
    assert result.returncode == 2
    assert "has not started" in result.stderr and "Traceback" not in result.stderr


def test_out_writes_a_page_whose_charts_are_well_formed_svg(
    generated: Generated, tmp_path: Path
) -> None:
    out = tmp_path / "review"
    result = run("--workspace", str(generated.root), "scale", "review", "--quarter", "2026Q4",
                 "--at", AT, "--out", str(out), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = Path(json.loads(result.stdout)["page"])
    assert page == out / "scale-review-2026Q4.html"
    html = page.read_text()
    charts = svgs(html)
    assert len(charts) == 3
    titles = [c.findtext(f"{SVG}title") or "" for c in charts]
    assert "New use cases reaching Production" in titles[0]
    assert "departments" in titles[1] and "Explore to Production" in titles[2]
    # Bars: one per quarter, and the goal line is drawn dashed.
    bars = charts[0].findall(f"{SVG}g/{SVG}rect")
    assert len(bars) == len(QUARTERS)
    assert any(line.get("stroke-dasharray") for line in charts[0].iter(f"{SVG}line"))
    share = charts[1].findtext(f"{SVG}desc") or ""
    for year, number in QUARTERS:
        want = expected_quarter(generated.plans, year, number)
        assert f"{want.label}: " in share
        assert f"({len(want.in_production)} of {len(want.departments)})" in share
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_the_audit_report_has_a_scale_page_linked_from_the_index(
    generated: Generated, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = run("--workspace", str(generated.root), "audit", "report", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'href="scale.html"' in (out / "index.html").read_text()
    html = (out / "scale.html").read_text()
    assert len(svgs(html)) == 3
    # The page reviews the quarter `scale review` reviews by default (the last complete
    # one), with every quarter since the first registration up to it.
    review = run("--workspace", str(generated.root), "scale", "review", "--json")
    assert review.returncode == 0, review.stderr
    quarter = json.loads(review.stdout)["quarter"]
    assert f"<h1>Scale review {quarter}</h1>" in html
    assert '<th scope="row">2025Q3</th>' in html and "in progress" not in html
