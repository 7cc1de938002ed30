"""The Scale review page: in the report (every quarter up to the last complete one, the
quarter ``scale review`` looks at by default, from the verified ledger), and standing
alone for ``scale review --out DIR``.

The report's page reads the ledger through the same one-page reader as the others and
refuses to show numbers from a ledger that fails verification: it says why instead,
while the rest of the report still shows the violations. The standalone page is the
same template on its own: styles and charts inline, no links to pages that are not there.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from gates.errors import StagegateError
from gates.report.index_query import IndexQuery
from gates.report.models import Banner
from gates.report.read_once import page_ledger
from gates.report.render import FileLinks, Links, render_scale
from gates.scale.metrics import ledger_metrics
from gates.scale.quarters import review_quarter
from gates.scale.review import ScaleReview, organisation_goal
from gates.workspace.session import Session

PAGE = "scale.html"


def scale_page(session: Session, banner: Banner, now: datetime, links: Links) -> str:
    quarter = review_quarter(now)
    try:
        metrics = ledger_metrics(page_ledger(session), session.workspace, quarter, now)
        review = ScaleReview(metrics.quarters, organisation_goal(session.workspace))
    except StagegateError as e:
        reason = f"The Scale review cannot be shown: {e.message}"
        return render_scale(None, links, as_of=now, banner=banner, unavailable=reason)
    return render_scale(review, links, as_of=now, banner=banner, index_href=links.index())


class _PageLinks(FileLinks):
    """Links of a page that stands alone: the home link points at the page itself."""

    def __init__(self, page: str) -> None:
        super().__init__(0)
        self.page = page

    def index(self) -> str:
        return self.page

    def index_for(self, query: IndexQuery) -> str | None:
        return None

    def scale(self) -> str | None:
        return self.page


def review_page_name(review: ScaleReview) -> str:
    return f"scale-review-{review.current.quarter.label}.html"


def write_review_page(review: ScaleReview, out_dir: Path, as_of: datetime) -> Path:
    """Render the review into ``out_dir`` (created); returns the page's path."""
    if out_dir.exists() and not out_dir.is_dir():
        raise StagegateError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = review_page_name(review)
    html = render_scale(review, _PageLinks(name), as_of=as_of, usecase_links=False)
    path = out_dir / name
    tmp = path.with_name(f".{name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path
