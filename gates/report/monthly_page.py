"""The monthly operations report as files: an HTML page (the report's look) and its JSON.

The page stands alone, like the Scale review's: styles and charts inline, no script, no
link to a page that is not beside it. Both files are written atomically into the
folder given, named after the use case and the month, so a month's report can be filed
as the Production stage's ``monthly_report`` deliverable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from gates.errors import StagegateError
from gates.recheck.monthly import MonthlyReport
from gates.report import monthly_charts as charts
from gates.report.index_query import IndexQuery
from gates.report.render import FileLinks, render_page


@dataclass(frozen=True)
class WrittenReport:
    html: Path
    json: Path


def report_name(report: MonthlyReport) -> str:
    """``monthly-report-<use case>-<YYYY-MM>``, the stem of both files."""
    return f"monthly-report-{report.usecase}-{report.month.label}"


class _PageLinks(FileLinks):
    """Links of a page that stands alone: the home link points at the page itself."""

    def __init__(self, page: str) -> None:
        super().__init__(0, scale=False)  # no site beside it: no Scale page to link to
        self.page = page

    def index(self) -> str:
        return self.page

    def index_for(self, query: IndexQuery) -> str | None:
        return None


def render_monthly(report: MonthlyReport, page: str = "") -> str:
    """The report's HTML page; ``page`` is its own file name (its home link)."""
    return render_page(
        "monthly.html",
        _PageLinks(page or f"{report_name(report)}.html"),
        report=report,
        availability_chart=charts.availability_chart(report),
        latency_chart=charts.latency_chart(report),
        error_rate_chart=charts.error_rate_chart(report),
        quality_chart=charts.quality_chart(report),
        cost_chart=charts.cost_chart(report),
    )


def monthly_json(report: MonthlyReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def write_monthly(report: MonthlyReport, out_dir: Path) -> WrittenReport:
    """Write ``<name>.html`` and ``<name>.json`` into ``out_dir`` (created)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise StagegateError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = report_name(report)
    html, data = out_dir / f"{name}.html", out_dir / f"{name}.json"
    _write(html, render_monthly(report, html.name))
    _write(data, monthly_json(report))
    return WrittenReport(html, data)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
