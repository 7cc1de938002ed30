"""`stagegate scale` commands: the quarterly Scale review, read from the verified ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gates.cli.context import parse_when, session_of
from gates.terminal import console, print_json

if TYPE_CHECKING:
    from gates.scale.review import ScaleReview

scale_app = typer.Typer(
    help="The quarterly Scale review: new use cases in Production, departments, adoption time, reuse.",
    no_args_is_help=True,
)


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""
    app.add_typer(scale_app, name="scale")


@scale_app.command()
def review(
    ctx: typer.Context,
    quarter: Annotated[
        str | None,
        typer.Option(help="Quarter to review, e.g. 2026Q4 (UTC; default: the last complete one)."),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Read the ledger as of this time (ISO 8601).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write an HTML page with charts here.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Review a quarter against the playbook's Scale goals, with the trend over earlier quarters."""
    from datetime import UTC, datetime

    from gates.errors import ConfigError
    from gates.scale.metrics import ledger_metrics
    from gates.scale.quarters import Quarter, review_quarter
    from gates.scale.review import ScaleReview, organisation_goal

    as_of = parse_when(at) or datetime.now(UTC)
    chosen = Quarter.parse(quarter) if quarter is not None else review_quarter(as_of)
    if chosen.start > as_of:
        raise ConfigError(
            "--quarter",
            [f"{chosen} has not started yet (as of {as_of.date().isoformat()}); nothing to review"],
        )
    session = session_of(ctx)
    metrics = ledger_metrics(session.ledger, session.workspace, chosen, as_of)
    result = ScaleReview(metrics.quarters, organisation_goal(session.workspace))
    page = None
    if out is not None:
        from gates.report.scale_page import write_review_page

        page = write_review_page(result, out, as_of)
    if json_out:
        print_json(
            {**result.to_json(), "asOf": as_of.isoformat(), "page": str(page) if page else None}
        )
        return
    _show(result)
    if page is not None:
        console().print(f"wrote {page}")


def _show(result: ScaleReview) -> None:
    from rich.table import Table

    q = result.current
    state = "complete" if q.complete else "in progress"
    goals = Table(title=f"Scale review {q.quarter} ({state})", title_justify="left")
    for col in ("goal", "this quarter", "before", "trend", "target", "met"):
        goals.add_column(col)
    for g in result.goals():
        if g.met is None:
            met = "[dim]no comparison[/]"
        elif g.met:
            met = "[green]met[/]"
        else:
            met = "[yellow]not yet[/]" if not q.complete else "[red]not met[/]"
        goals.add_row(g.label, g.shown(g.value), g.shown(g.previous), g.trend or "—", g.goal, met)
    console().print(goals)
    history = Table(title="Quarter by quarter", title_justify="left")
    for col in ("quarter", "new in Production", "departments", "median days", "reusing"):
        history.add_column(col)
    for m in result.quarters:
        days = f"{m.median_adoption_days:.0f}" if m.median_adoption_days is not None else "—"
        history.add_row(
            m.quarter.label + ("" if m.complete else " (in progress)"),
            str(m.production_count),
            f"{len(m.departments_in_production)} of {len(m.departments)}",
            days,
            f"{m.reusing} of {m.production_count}",
        )
    console().print(history)
