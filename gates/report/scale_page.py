"""The report's Scale review page: every quarter up to the one in progress, from the verified ledger.

The page reads the ledger through the same one-page reader as the others and refuses to
show numbers from a ledger that fails verification: it says why instead, while the
rest of the report still shows the violations.
"""

from __future__ import annotations

from datetime import datetime

from gates.engine.session import Session
from gates.errors import StagegateError
from gates.report.read_once import page_ledger
from gates.report.render import Links, render_scale
from gates.report.views import Banner
from gates.scale.metrics import ledger_metrics
from gates.scale.quarters import Quarter
from gates.scale.review import ScaleReview, organisation_goal

PAGE = "scale.html"


def scale_page(session: Session, banner: Banner, now: datetime, links: Links) -> str:
    quarter = Quarter.of(now)
    try:
        metrics = ledger_metrics(page_ledger(session), session.workspace, quarter, now)
        review = ScaleReview(metrics.quarters, organisation_goal(session.workspace))
    except StagegateError as e:
        reason = f"The Scale review cannot be shown: {e.message}"
        return render_scale(None, links, as_of=now, banner=banner, unavailable=reason)
    return render_scale(review, links, as_of=now, banner=banner, index_href=links.index())
