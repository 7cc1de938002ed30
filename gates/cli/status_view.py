"""``stagegate status``: where each use case stands, as a table or as JSON.

It imports no Typer: the quick path (``gates.cli.quick``) runs it straight from the
command line, and the Typer command in ``gates.cli.ledger_cmds`` calls the same function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gates.cli.context import CliState, parse_when
from gates.terminal import console, print_json, stage_text

if TYPE_CHECKING:
    from gates.engine.status import Health
    from gates.risks import Risk
    from gates.roadmap.tracking import DecisionTrack


def show_status(state: CliState, usecase: str | None, at: str | None, json_out: bool) -> None:
    """Print the status of ``usecase`` (None: every use case) as of ``at`` (None: now)."""
    from gates.engine.status import usecase_status

    session = state.reading_session()
    now = parse_when(at) or datetime.now(UTC)
    ids = (
        [usecase]
        if usecase
        else sorted(set(session.workspace.usecases) | set(session.ledger.usecases()))
    )
    if (
        usecase
        and usecase not in session.workspace.usecases
        and usecase not in session.ledger.usecases()
    ):
        session.workspace.usecase(usecase)  # raises a clear "no use case" error
    rows = [usecase_status(session.workspace, i, session.ledger.state(i), now) for i in ids]
    session.save_verified_heads()
    if json_out:
        print_json([r.to_json() for r in rows])
        return
    from rich.table import Table

    table = Table(title="Use cases", title_justify="left")
    # Ids stay whole (a cut id names another use case); the rest may wrap.
    table.add_column("use case", min_width=min(max((len(r.id) for r in rows), default=8), 24))
    for col in ("stage", "days/plan", "last gate"):
        table.add_column(col)
    table.add_column("health", overflow="fold")
    for col in ("next checkpoint", "risks", "slip", "next decision"):
        table.add_column(col)
    table.add_column("overdue", justify="right")
    from gates.cli.roadmap_text import next_text, slip_text

    for r in rows:
        days = f"{r.days_in_stage:.0f}" if r.days_in_stage is not None else ""
        box = (
            f"{days}/{r.planned_days}"
            + (f" (max {r.max_days})" if r.max_days and r.max_days != r.planned_days else "")
            if r.planned_days
            else days
        )
        flag = {
            "overdue": " [bold red]overdue[/]",
            "over-planned": " [yellow]over plan[/]",
        }.get(r.time_box, "")
        last = f"{r.last_gate} {r.last_verdict}" if r.last_gate else ""
        table.add_row(
            r.id,
            stage_text(r.stage),
            box + flag,
            last,
            _health_cell(r.health, r.stage),
            r.next_checkpoint or "",
            _risk_cell(r.risks, r.risk_error),
            slip_text(r.roadmap.slip_days) if r.roadmap else "—",
            next_text(r.roadmap, compact=True) if r.roadmap else "—",
            _overdue_cell(r.roadmap.overdue if r.roadmap else ()),
        )
    console().print(table)
    from rich.markup import escape

    for r in rows:
        if r.risk_error is not None:
            console().print(f"[yellow]{r.id}:[/] {escape(r.risk_error)}", soft_wrap=True)
        if r.roadmap_error is not None:
            console().print(f"[yellow]{r.id}:[/] {escape(r.roadmap_error)}", soft_wrap=True)


def _risk_cell(risks: tuple[Risk, ...], error: str | None) -> str:
    """Risk count and ids for the status table (details are in ``--json`` and the report)."""
    if error is not None:
        return "[bold red]not assessed[/]"
    if not risks:
        return "0"
    return f"[yellow]{len(risks)}[/]: " + ", ".join(r.id for r in risks)


HEALTH_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "error": "bold red"}


def _health_cell(health: Health | None, stage: str) -> str:
    """The last re-check: verdict, day, and the checks that did not pass."""
    from rich.markup import escape

    if health is None:
        return "—" if stage in ("stopped", "unregistered") else "[dim]none yet[/]"
    style = HEALTH_STYLES.get(health.verdict, "")
    named = ", ".join(escape(f.check) for f in health.findings)
    return f"[{style}]{escape(health.verdict)}[/] {health.at.date().isoformat()}" + (
        f"\n{named}" if named else ""
    )


def _overdue_cell(overdue: tuple[DecisionTrack, ...]) -> str:
    """How many roadmap decisions are overdue (their names are in ``stagegate roadmap``)."""
    return f"[bold red]{len(overdue)}[/]" if overdue else "0"
