"""`stagegate report monthly`: the playbook's monthly operations report of a use case in Production.

Read-only: the verified ledger and the monitoring source the spec declares. The report
is printed as a summary (or ``--json``) and, with ``--out``, written as an HTML page and
its JSON, to be filed as the Production stage's ``monthly_report`` deliverable.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gates.cli.context import parse_when, session_of
from gates.terminal import console, print_json

if TYPE_CHECKING:
    from gates.recheck.monthly import MonthlyReport

report_app = typer.Typer(
    help="Reports the playbook asks for, generated from the ledger and the monitoring source.",
    no_args_is_help=True,
)

STATUS_STYLE = {"met": "green", "warning": "yellow", "not met": "bold red", "unknown": "dim"}


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""
    app.add_typer(report_app, name="report")


@report_app.command()
def monthly(
    ctx: typer.Context,
    usecase: Annotated[str, typer.Argument(help="The use case (in Production that month).")],
    month: Annotated[
        str | None,
        typer.Option(help="The month, e.g. 2026-11 (UTC; default: the last complete one)."),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Report as of this time (ISO 8601; default: now).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the HTML page and its JSON into this folder."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Health, incidents and cost against budget over a month in Production. Exit 0 when made."""
    from datetime import UTC, datetime

    from gates.extras import GATE, require

    # The monitoring source is read through MLflow and Great Expectations, like the re-check.
    require(GATE, "stagegate report monthly")
    from gates.recheck.monthly import monthly_report
    from gates.recheck.monthly_figures import Month, last_complete_month

    as_of = parse_when(at) or datetime.now(UTC)
    chosen = Month.parse(month) if month is not None else last_complete_month(as_of)
    report = monthly_report(session_of(ctx), usecase, chosen, as_of)
    written = None
    if out is not None:
        from gates.report.monthly_page import write_monthly

        written = write_monthly(report, out)
    if json_out:
        files = {"html": str(written.html), "json": str(written.json)} if written else None
        print_json({**report.to_json(), "files": files})
        return
    _show(report)
    if written is not None:
        console().print(f"wrote {written.html} and {written.json}", soft_wrap=True)
    else:
        console().print("[dim]--out DIR writes the HTML page (with charts) and its JSON[/]")


def _show(report: MonthlyReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    state = " (in progress: cost projected to month end)" if report.in_progress else ""
    table = Table(
        title=f"{report.usecase}: operations in {report.month.label}{state}",
        title_justify="left",
        caption=f"{len(report.days)} observed day(s); in Production "
        f"{len(report.production_days)} of {report.month.days} days",
        caption_justify="left",
    )
    for col in ("criterion", "this month", "target", "status"):
        table.add_column(col)
    for j in report.summary:
        style = STATUS_STYLE.get(j.status, "")
        table.add_row(escape(j.label), escape(j.value), escape(j.target), f"[{style}]{j.status}[/]")
    console().print(table)
    for j in report.summary:
        console().print(f"  {escape(j.label)}: {escape(j.detail)}", soft_wrap=True, highlight=False)
    nights = report.nights
    verdicts = ", ".join(
        f"{v} {sum(1 for n in nights if n.verdict == v)}"
        for v in ("ok", "warn", "fail", "error")
        if any(n.verdict == v for n in nights)
    )
    console().print(
        f"  signed re-checks: {len(nights)}" + (f" ({verdicts})" if verdicts else "")
        + f"; alerts sent: {len(report.alerts_sent)}"
        + (f", not sent: {len(report.alerts_not_sent)}" if report.alerts_not_sent else ""),
        highlight=False,
    )  # fmt: skip
