"""The static site: every page written, every link a file, all spec and evidence text escaped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from gates.report.site import SiteSummary, write_site
from gates.workspace.session import Session
from tests.support.demo import HOSTILE, HOSTILE_ESCAPED, HOSTILE_ID, add_hostile_usecase
from tests.support.forge import flip_payload_byte

STAGEGATE = [sys.executable, "-m", "gates.cli"]


@pytest.fixture(scope="module")
def site(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SiteSummary]:
    """The demo plus a use case full of markup, rendered once for this module."""
    base = tmp_path_factory.mktemp("site")
    root = base / "workspace"
    shutil.copytree(demo_root, root)
    add_hostile_usecase(root)
    out = base / "report"
    return out, write_site(Session.open(root), out, datetime.now(UTC))


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


class Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.refs.extend(v for k, v in attrs if k in ("href", "src", "action") and v is not None)


def parse(page: Path) -> Refs:
    refs = Refs()
    refs.feed(page.read_text("utf-8"))
    return refs


def test_the_site_has_an_index_a_page_per_use_case_and_one_per_entry(
    site: tuple[Path, SiteSummary],
) -> None:
    out, summary = site
    assert (out / "index.html").is_file()
    for usecase in ("support-bot", "invoice-ocr", HOSTILE_ID):
        assert (out / "usecases" / f"{usecase}.html").is_file()
    assert sorted(int(p.stem) for p in (out / "entries" / "support-bot").iterdir()) == list(
        range(12)
    )
    assert len(list((out / "entries" / "invoice-ocr").iterdir())) == 7
    # index, explore and scale pages; one page per use case; one per entry; the index
    # once per sort order (both ways, 8 keys, less the default) and per filter value
    # (3 stages, 3 departments, every health verdict)
    views = sorted(p.name for p in (out / "views").iterdir())
    assert len(views) == 15 + 3 + 3 + 5
    assert {"sort-days-desc.html", "health-warn.html", "stage-production.html"} <= set(views)
    assert summary.entries == 22 and summary.pages == 3 + 3 + 22 + 26 and summary.intact
    assert len(pages(out)) == summary.pages


def test_every_link_resolves_to_a_file_in_the_site_and_nothing_is_fetched(
    site: tuple[Path, SiteSummary],
) -> None:
    out, _ = site
    checked = 0
    for page in pages(out):
        refs = parse(page)
        assert "script" not in refs.tags and "iframe" not in refs.tags
        for ref in refs.refs:
            parts = urlsplit(ref)
            if parts.scheme == "data":
                continue  # inline, nothing fetched
            assert not parts.scheme and not parts.netloc, f"{page}: external reference {ref}"
            if not parts.path:
                continue  # a fragment on the same page
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page.relative_to(out)} links to missing {ref}"
            assert target.is_relative_to(out.resolve())
            checked += 1
    assert checked > 100


def test_spec_and_evidence_content_appears_escaped_and_never_raw(
    site: tuple[Path, SiteSummary],
) -> None:
    out, _ = site
    for page in pages(out):
        text = page.read_text("utf-8")
        assert HOSTILE not in text, f"raw markup in {page.relative_to(out)}"
        assert "<script" not in text.lower()
    index = (out / "index.html").read_text("utf-8")
    assert f"{HOSTILE_ESCAPED} assistant" in index  # title and department
    usecase = (out / "usecases" / f"{HOSTILE_ID}.html").read_text("utf-8")
    assert f"docs/{HOSTILE_ESCAPED}.md" in usecase  # deliverable path from the spec
    assert f"approval by {HOSTILE_ESCAPED} as sponsor" in usecase  # signed approver name
    gate = (out / "entries" / HOSTILE_ID / "2.html").read_text("utf-8")
    assert f"docs/{HOSTILE_ESCAPED}.md" in gate  # the check's reason in the signed entry
    approval = (out / "entries" / HOSTILE_ID / "1.html").read_text("utf-8")
    assert approval.count(HOSTILE_ESCAPED) >= 2  # approver and note


def test_pages_are_readable_documents_with_headings_and_table_headers(
    site: tuple[Path, SiteSummary],
) -> None:
    out, _ = site
    for page in pages(out):
        text = page.read_text("utf-8")
        assert text.startswith("<!doctype html>") and '<html lang="en">' in text
        assert re.search(r"<h1>.+</h1>", text) and "<th scope=" in text
        assert "Content-Security-Policy" in text
    bot = (out / "usecases" / "support-bot.html").read_text("utf-8")
    assert "gate PoC → Pilot: blocked (metric:accuracy)" in bot
    assert "Verified: the chain of support-bot is intact" in bot
    assert bot.count("<svg") == 3 and "role='img'" in bot  # time in stage, timeline, roadmap


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run([*STAGEGATE, *args], capture_output=True, text=True, env=env, timeout=120)


def test_report_command_writes_the_site_without_importing_prefect_mlflow_or_gx(
    demo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gates.cli", "--workspace", str(demo_root),
         "audit", "report", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    # 24 pages of the ledger and 24 of the index filtered or sorted (views/)
    assert "wrote 48 pages" in result.stdout and "ledger intact" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert not imported & {"prefect", "mlflow", "great_expectations"}
    assert (out / "index.html").is_file()


def test_report_of_a_tampered_ledger_exits_1_and_names_the_entry_in_the_banner(
    demo_copy: Path, tmp_path: Path
) -> None:
    flip_payload_byte(demo_copy, "invoice-ocr", 2)
    out = tmp_path / "report"
    result = run_cli("--workspace", str(demo_copy), "audit", "report", "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert "violation" in result.stdout
    index = (out / "index.html").read_text("utf-8")
    assert "Verification failed" in index
    assert 'href="entries/invoice-ocr/2.html">#2</a>' in index
    assert "signature-invalid" in index
    assert "entry does not verify" in (out / "entries" / "invoice-ocr" / "2.html").read_text()


def test_rewriting_a_report_removes_pages_of_entries_that_are_gone(
    demo_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "auditor.txt").write_text("mine")
    write_site(Session.open(demo_copy), out, datetime.now(UTC))
    assert (out / "entries" / "invoice-ocr" / "6.html").is_file()
    (demo_copy / "ledger" / "chains" / "invoice-ocr" / "000000000006.dsse.json").unlink()
    write_site(Session.open(demo_copy), out, datetime.now(UTC))
    assert not (out / "entries" / "invoice-ocr" / "6.html").exists()
    assert (out / "entries" / "invoice-ocr" / "5.html").is_file()
    assert (out / "notes" / "auditor.txt").read_text() == "mine"


SIMULATED_LINE = "Simulated time: timings are not evidence."


def test_every_page_of_a_simulated_ledger_says_timings_are_not_evidence(
    site: tuple[Path, SiteSummary],
) -> None:
    out, _ = site
    for page in (
        out / "index.html",
        out / "usecases" / "support-bot.html",
        out / "entries" / "support-bot" / "0.html",
    ):
        assert SIMULATED_LINE in page.read_text("utf-8"), page


def test_a_system_clock_ledger_has_no_simulated_time_line(tmp_path: Path) -> None:
    from gates.engine.actions import register
    from tests.support.presets import ledger_world

    world = ledger_world(tmp_path / "ws")
    session = world.configure(clock="system")
    register(session, "alpha")
    summary = write_site(session, tmp_path / "site", datetime.now(UTC))
    assert summary.intact
    index = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "Verified: the ledger is intact" in index and SIMULATED_LINE not in index
