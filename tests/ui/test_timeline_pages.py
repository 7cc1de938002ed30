"""A long timeline in the live UI: the newest entries, with older ones a link away, and the
banner still judging the whole chain."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gates.report.usecase_page import TimelineWindow
from tests.support.forge import flip_payload_byte
from tests.support.ui_server import live_server

#: The demo's support-bot chain has entries #0 to #11; five a page makes three pages.
PAGE = 5


@pytest.fixture(scope="module")
def client(ui_demo_root: Path) -> Iterator[httpx.Client]:
    with (
        live_server(ui_demo_root, timeline_page=PAGE) as url,
        httpx.Client(base_url=url, timeout=30) as c,
    ):
        yield c


def timeline_of(html: str) -> str:
    """The timeline section of a use-case page (the banner and roadmap link entries too)."""
    return html[html.index('id="timeline"') : html.index("</table>", html.index('id="timeline"'))]


def rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/entries/support-bot/(\d+)">#', timeline_of(html))]


def test_a_long_timeline_shows_its_newest_entries_and_links_to_older_ones(
    client: httpx.Client,
) -> None:
    r = client.get("/usecases/support-bot")
    assert r.status_code == 200
    assert rows(r.text) == [7, 8, 9, 10, 11]
    assert "Signed entries #7 to #11 of the chain's 12, oldest first" in r.text
    assert 'href="/usecases/support-bot?before=7#timeline"' in r.text
    assert "Newer entries" not in r.text


def test_older_pages_link_to_the_newer_ones_and_the_oldest_has_no_older_link(
    client: httpx.Client,
) -> None:
    middle = client.get("/usecases/support-bot", params={"before": 7}).text
    assert rows(middle) == [2, 3, 4, 5, 6]
    assert 'href="/usecases/support-bot?before=2#timeline"' in middle
    assert 'href="/usecases/support-bot">Newer entries' in middle  # the newest page
    oldest = client.get("/usecases/support-bot", params={"before": 2}).text
    assert rows(oldest) == [0, 1]
    assert "Older entries" not in oldest
    assert 'href="/usecases/support-bot?before=7#timeline">Newer entries' in oldest
    assert 'href="/usecases/support-bot">Newest entries' in oldest


def test_a_page_of_a_long_timeline_still_shows_the_whole_chains_stage_and_count(
    client: httpx.Client,
) -> None:
    whole = client.get("/usecases/support-bot").text
    oldest = client.get("/usecases/support-bot", params={"before": 2}).text
    facts = re.compile(r"<dt>Entries</dt><dd>(\d+)</dd>")
    assert facts.findall(whole) == facts.findall(oldest) == ["12"]


@pytest.mark.parametrize("before", ["abc", "-1", "1e3", "", "7;drop"])
def test_a_before_that_is_not_a_sequence_number_is_a_404(client: httpx.Client, before: str) -> None:
    r = client.get("/usecases/support-bot", params={"before": before})
    assert r.status_code == 404 and "sequence number" in r.text


def test_an_entry_rewritten_on_an_older_page_fails_the_newest_pages_banner(
    copy_demo: Callable[[], Path],
) -> None:
    root = copy_demo()
    with live_server(root, timeline_page=PAGE) as url, httpx.Client(base_url=url) as c:
        assert "Verified: the chain of support-bot is intact" in c.get("/usecases/support-bot").text
        flip_payload_byte(root, "support-bot", 1)
        page = c.get("/usecases/support-bot").text
        older = c.get("/usecases/support-bot", params={"before": 2}).text
    assert rows(page) == [7, 8, 9, 10, 11]
    assert "Verification failed" in page and "signature-invalid" in page
    assert 'href="/entries/support-bot/1">#1</a>' in page  # the banner names it
    assert "stored entry does not verify" in timeline_of(older)


@pytest.mark.parametrize(
    ("before", "shown", "older", "newer", "latest"),
    [
        (None, (7, 8, 9, 10, 11), 7, None, True),
        (7, (2, 3, 4, 5, 6), 2, None, False),
        (2, (0, 1), None, 7, False),
        (0, (), None, 5, False),
        (99, (7, 8, 9, 10, 11), 7, None, True),
    ],
)
def test_a_window_selects_the_newest_entries_below_its_cursor(
    before: int | None,
    shown: tuple[int, ...],
    older: int | None,
    newer: int | None,
    latest: bool,
) -> None:
    sequences = tuple(range(12))
    start, end, page = TimelineWindow(PAGE, before).select(sequences)
    assert sequences[start:end] == shown
    assert (page.total, page.older, page.newer, page.latest) == (12, older, newer, latest)


def test_a_window_over_a_chain_with_a_gap_pages_by_sequence_number() -> None:
    sequences = (0, 1, 2, 4, 5, 6, 7)  # entry 3 is gone from the store
    start, end, page = TimelineWindow(3, 4).select(sequences)
    assert sequences[start:end] == (0, 1, 2) and page.older is None and page.newer == 7
