"""Write one quarter's Scale review as a standalone HTML page (``scale review --out DIR``).

The same template as the report's Scale page, on its own: styles and charts inline,
no links to pages that are not there.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from gates.errors import StagegateError
from gates.report.render import FileLinks, render_scale
from gates.scale.review import ScaleReview


class _PageLinks(FileLinks):
    """Links of a page that stands alone: the home link points at the page itself."""

    def __init__(self, page: str) -> None:
        super().__init__(0)
        self.page = page

    def index(self) -> str:
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
