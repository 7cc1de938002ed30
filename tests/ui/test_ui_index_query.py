"""The live index answers search, filter and sort from the URL, on the server, with no script."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gates.ui.app import SECURITY_HEADERS
from tests.support.ui_server import live_server

ROW = re.compile(
    r'<tr data-health="(?P<health>[a-z]+)">\s*<th scope="row" data-label="Use case">'
    r'<a href="/usecases/(?P<id>[a-z0-9-]+)">'
)


@pytest.fixture(scope="module")
def client(ui_demo_root: Path) -> Iterator[httpx.Client]:
    with live_server(ui_demo_root) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def rows(html: str) -> list[tuple[str, str]]:
    """(use case, health) of every row the index table shows, in order."""
    return [(m["id"], m["health"]) for m in ROW.finditer(html)]


def test_the_index_shows_each_use_cases_last_recheck_as_its_health(client: httpx.Client) -> None:
    page = client.get("/").text
    assert rows(page) == [("invoice-ocr", "none"), ("support-bot", "warn")]
    # The re-check's day links to its entry and names the check that warned.
    assert 'href="/entries/support-bot/11"' in page and ">health:cost</code>" in page
    assert "last gate passed" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("health=warn", [("support-bot", "warn")]),
        ("health=none", [("invoice-ocr", "none")]),
        ("health=fail", []),
        ("stage=production", [("support-bot", "warn")]),
        ("department=finance", [("invoice-ocr", "none")]),
        ("q=COST", [("support-bot", "warn")]),  # the name of the check that warned
        ("q=invoice", [("invoice-ocr", "none")]),
        ("q=bot&health=none", []),
        ("stage=no-such-stage", []),
    ],
)
def test_filters_and_search_select_rows_on_the_server(
    client: httpx.Client, query: str, expected: list[tuple[str, str]]
) -> None:
    r = client.get(f"/?{query}")
    assert r.status_code == 200
    assert rows(r.text) == expected
    assert f"Showing {len(expected)} of 2 use case(s)" in r.text


def test_sorting_by_a_column_goes_both_ways_and_the_heading_links_the_other_way(
    client: httpx.Client,
) -> None:
    by_days = client.get("/?sort=days").text
    assert [i for i, _ in rows(by_days)] == ["support-bot", "invoice-ocr"]
    assert 'aria-sort="ascending"' in by_days and 'href="/?sort=days&amp;order=desc"' in by_days
    longest = client.get("/?sort=days&order=desc").text
    assert [i for i, _ in rows(longest)] == ["invoice-ocr", "support-bot"]
    worst = client.get("/?sort=health").text  # worst verdict first; none last
    assert [i for i, _ in rows(worst)] == ["support-bot", "invoice-ocr"]


def test_a_filtered_index_keeps_the_other_filters_in_its_links(client: httpx.Client) -> None:
    page = client.get("/?stage=production&sort=days").text
    # Choosing a health value keeps the stage filter and the sort order.
    assert 'href="/?stage=production&amp;health=warn&amp;sort=days"' in page
    # Choosing the active stage again clears it.
    assert 'href="/?sort=days"' in page


def test_search_text_from_the_url_is_shown_escaped(client: httpx.Client) -> None:
    page = client.get("/", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_the_search_form_submits_only_to_the_ui_itself(client: httpx.Client) -> None:
    r = client.get("/")
    assert '<form class="search" method="get" action="/" role="search">' in r.text
    csp = r.headers["content-security-policy"]
    assert csp == SECURITY_HEADERS["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp


def test_the_navigation_links_use_cases_explore_and_scale(client: httpx.Client) -> None:
    nav = client.get("/entries/support-bot/3").text.split('<nav aria-label="Site">')[1]
    nav = nav.split("</nav>")[0]
    assert re.findall(r'href="([^"]+)"', nav) == ["/", "/", "/explore", "/scale"]


def test_without_a_candidates_file_no_page_links_to_explore(
    ui_demo_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(ui_demo_root, root)
    (root / "explore" / "candidates.yaml").unlink()
    with live_server(root) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/explore").status_code == 404
        for path in ("/", "/usecases/support-bot", "/entries/support-bot/0", "/scale", "/nope"):
            assert 'href="/explore"' not in c.get(path).text, path
