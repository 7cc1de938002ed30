"""The static report's Explore page: there when the workspace has candidates, linked, escaped."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from gates.explore.selection import select
from gates.ledger.entry import entry_key
from gates.report.explore_page import _first_entries
from gates.report.site import write_site
from gates.workspace.session import Session
from tests.support.candidates import CANDIDATES, write_yaml
from tests.support.counting_store import CountingStore
from tests.support.world import T0

HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text("utf-8"))
    return page


def test_the_report_has_an_explore_page_with_matrix_ranking_and_selections(
    explore_ws: Path, tmp_path: Path
) -> None:
    select(Session.open(explore_ws), ["alpha", "gamma"], rationale="best two starts", now=T0)
    out = tmp_path / "site"
    summary = write_site(Session.open(explore_ws), out, datetime.now(UTC))
    assert summary.intact
    page = out / "explore.html"
    text = page.read_text("utf-8")
    assert "<h1>Explore: use-case candidates</h1>" in text and '<th scope="col">' in text
    svg = text[text.index("<svg") : text.index("</svg>") + len("</svg>")]
    matrix = ET.fromstring(svg)  # the inline matrix is well-formed XML
    assert all(c["id"] in "".join(matrix.itertext()) for c in CANDIDATES)
    assert "very high impact is risky" in text
    assert text.count("best two starts") == 2  # one row per selection
    assert 'href="entries/gamma/0.html"' in text and "same as shown" in text
    assert "script" not in parse(page).tags
    for href in parse(page).hrefs:
        assert href.startswith(("data:", "#")) or (out / href).is_file(), href
    for other in (out / "index.html", out / "usecases" / "alpha.html"):
        assert any(h.endswith("explore.html") for h in parse(other).hrefs), other


def test_a_selection_on_other_candidates_is_flagged(explore_ws: Path, tmp_path: Path) -> None:
    select(Session.open(explore_ws), ["alpha"], rationale="first pick", now=T0)
    rows = copy.deepcopy(CANDIDATES)
    rows[4]["impact"] = "low"
    write_yaml(explore_ws / "explore" / "candidates.yaml", rows)
    write_site(Session.open(explore_ws), tmp_path / "site", datetime.now(UTC))
    text = (tmp_path / "site" / "explore.html").read_text("utf-8")
    assert "another version" in text and "selected on other candidates" in text


def test_no_candidates_file_means_no_page_and_no_link(explore_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(Session.open(explore_ws), out, datetime.now(UTC))
    assert (out / "explore.html").is_file()
    (explore_ws / "explore" / "candidates.yaml").unlink()
    write_site(Session.open(explore_ws), out, datetime.now(UTC))
    assert not (out / "explore.html").exists()  # a stale page would describe a file that is gone
    assert not any("explore" in h for h in parse(out / "index.html").hrefs)


def test_a_broken_candidates_file_is_shown_not_fatal(explore_ws: Path, tmp_path: Path) -> None:
    rows = copy.deepcopy(CANDIDATES)
    rows[0]["impact"] = HOSTILE
    write_yaml(explore_ws / "explore" / "candidates.yaml", rows)
    summary = write_site(Session.open(explore_ws), tmp_path / "site", datetime.now(UTC))
    assert summary.intact
    text = (tmp_path / "site" / "explore.html").read_text("utf-8")
    assert "The candidates file cannot be scored" in text and "is not a known level" in text
    assert HOSTILE not in text and "&lt;script&gt;" in text


def test_a_selected_use_case_whose_first_entry_is_gone_is_left_out_and_the_rest_are_shown(
    explore_ws: Path, tmp_path: Path
) -> None:
    select(
        Session.open(explore_ws),
        ["alpha", "gamma", "delta"],
        rationale="picked as three starts",
        now=T0,
        force=True,
    )
    (Session.open(explore_ws).store.root / entry_key("gamma", 0)).unlink()
    out = tmp_path / "site"
    write_site(Session.open(explore_ws), out, datetime.now(UTC))
    text = (out / "explore.html").read_text("utf-8")
    assert text.count("picked as three starts") == 2
    assert 'href="entries/alpha/0.html"' in text and 'href="entries/delta/0.html"' in text
    assert 'href="entries/gamma/0.html"' not in text


def test_first_entries_are_read_in_one_pass_that_goes_on_past_a_missing_one(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "ledger")
    for usecase in ("a", "c", "d"):
        store.put_new(entry_key(usecase, 0), usecase.encode())
    keys = [entry_key(usecase, 0) for usecase in ("a", "b", "c", "x/../y", "d")]
    read = list(_first_entries(store, keys))
    assert read == [(entry_key(u, 0), u.encode()) for u in ("a", "c", "d")]
    assert store.reads == [entry_key(u, 0) for u in ("a", "c", "d")]
