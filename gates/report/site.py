"""Write the report as a static HTML site an auditor can open from disk or archive.

The folder holds ``index.html``, ``usecases/<id>.html``, ``entries/<id>/<seq>.html``,
``views/*.html`` (the index filtered by one stage, department or health, or sorted by
one column: the saved report's search and sort), when the workspace has a candidates
file ``explore.html``, and the quarterly Scale review ``scale.html``, linked by relative
paths, with styles and charts inline: no server, no script, no external fetch. Each chain is read and verified once, and only
one chain's entries are held in memory at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gates.errors import StagegateError
from gates.report.entry_page import build_entry
from gates.report.explore_page import build_explore
from gates.report.index_page import build_index
from gates.report.index_query import VIEWS_DIR, facets_of, static_page, static_queries
from gates.report.models import is_usecase_id
from gates.report.reading import read_chain, read_ledger
from gates.report.render import (
    FileLinks,
    render_entry,
    render_explore,
    render_index,
    render_usecase,
)
from gates.report.scale_page import PAGE as SCALE_PAGE
from gates.report.scale_page import scale_page
from gates.report.usecase_page import build_usecase
from gates.workspace.session import Session


@dataclass(frozen=True)
class SiteSummary:
    out_dir: Path
    pages: int
    usecases: int
    entries: int
    intact: bool
    violations: int


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _remove_stale_pages(out_dir: Path, written: set[Path]) -> None:
    """Drop pages of an earlier report that this one did not write.

    A page left over from an entry that is gone from the ledger would show an auditor
    history that no longer exists. Only ``.html`` files in the report's own folders go.
    """
    for folder in (out_dir / "usecases", out_dir / "entries", out_dir / VIEWS_DIR):
        if not folder.is_dir():
            continue
        for page in sorted(folder.rglob("*.html")):
            if page not in written:
                page.unlink()
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
            if not any(sub.iterdir()):
                sub.rmdir()


def write_site(session: Session, out_dir: Path, now: datetime) -> SiteSummary:
    """Render every page of the report into ``out_dir`` (created if needed)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise StagegateError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    read = read_ledger(session)
    index = build_index(session, read, now)
    explore = build_explore(session, index.banner, now)
    has_explore = explore is not None
    written = {out_dir / "index.html"}
    _write(out_dir / "index.html", render_index(index, FileLinks(0, explore=has_explore)))
    # The saved report answers no query: it carries a page per filter value and per sort.
    view_links = FileLinks(1, explore=has_explore)
    for query in static_queries(facets_of(index.rows)):
        name = static_page(query)
        assert name is not None and name.startswith(f"{VIEWS_DIR}/")
        written.add(out_dir / name)
        _write(out_dir / name, render_index(index, view_links, query))
    written.add(out_dir / SCALE_PAGE)
    _write(
        out_dir / SCALE_PAGE,
        scale_page(session, index.banner, now, FileLinks(0, explore=has_explore)),
    )
    if explore is not None:
        written.add(out_dir / "explore.html")
        _write(out_dir / "explore.html", render_explore(explore, FileLinks(0, explore=True)))
    elif (out_dir / "explore.html").is_file():
        (out_dir / "explore.html").unlink()  # the candidates file is gone: so is its page
    entries = 0
    usecase_links = FileLinks(1, explore=has_explore)
    entry_links = FileLinks(2, explore=has_explore)
    for row in index.rows:
        if not is_usecase_id(row.id):
            continue  # never a file name from an id that could escape the folder
        report, chain = read_chain(session, row.id)
        view = build_usecase(session, report, chain, now)
        path = out_dir / "usecases" / f"{row.id}.html"
        _write(path, render_usecase(view, usecase_links))
        written.add(path)
        for seq in chain.sequences:
            page = build_entry(session, report, chain, seq, now)
            path = out_dir / "entries" / row.id / f"{seq}.html"
            _write(path, render_entry(page, entry_links))
            written.add(path)
            entries += 1
    _remove_stale_pages(out_dir, written)
    return SiteSummary(
        out_dir=out_dir,
        pages=len(written),
        usecases=len(index.rows),
        entries=entries,
        intact=index.banner.intact,
        violations=len(index.banner.violations),
    )
