"""`stagegate roadmap`: each use case's dated plan against its ledger, slips and decisions due.

Only typer and the CLI's own modules load at start; the ledger and the charts load
when the command runs, so every other command keeps its cold start.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gates.cli.context import parse_when, session_of
from gates.cli.roadmap_text import decision_state_text, next_text, slip_text
from gates.terminal import console, err_console, print_json, stage_text

if TYPE_CHECKING:
    from gates.roadmap.tracking import RoadmapTrack
    from gates.workspace.session import Session


def _track(session: Session, usecase_id: str, at: datetime) -> RoadmapTrack:
    from gates.roadmap.tracking import milestones_of, track_roadmap

    state = session.ledger.state(usecase_id)
    spec = session.workspace.usecases.get(usecase_id)
    source = str(session.workspace.sources.get(usecase_id, usecase_id))
    return track_roadmap(usecase_id, spec, milestones_of(state.history), at, source=source)


def _show_one(track: RoadmapTrack) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    stage = track.stage.value if track.stage else "unregistered"
    out.print(f"[bold]{track.usecase}[/] —", stage_text(stage), f"— {track.note}")
    if track.plan is None:
        return
    stages = Table(title="Planned against actual", title_justify="left")
    for col in ("stage", "planned", "actual", "start slip", "slip", "state"):
        stages.add_column(col)
    for s in track.stages:
        p = s.planned
        planned = "—"
        if p is not None:
            weeks = (
                f"weeks {p.first_week}–{p.last_week}" if p.last_week else f"week {p.first_week}+"
            )
            planned = (
                f"{p.start.isoformat()} → {p.end.isoformat() if p.end else 'ongoing'} ({weeks})"
            )
        start, end = s.actual_start, s.actual_end
        actual = (
            f"{start.date().isoformat()} → {end.date().isoformat() if end else 'now'}"
            if start
            else "—"
        )
        if len(s.visits) > 1:
            actual += f" ({len(s.visits)} visits)"
        stages.add_row(
            s.stage.label,
            planned,
            actual,
            slip_text(s.start_slip_days),
            slip_text(s.slip_days),
            s.state,
        )
    out.print(stages)
    decisions = Table(title="Decisions", title_justify="left")
    for col in ("week", "decision", "due", "state"):
        decisions.add_column(col)
    for d in track.decisions:
        due = d.due.isoformat() + (" (re-planned)" if d.due != d.planned.due else "")
        decisions.add_row(str(d.planned.week), escape(d.label), due, decision_state_text(d))
    out.print(decisions)
    out.print(f"next decision: {next_text(track)}")
    overdue = len(track.overdue)
    out.print(f"overdue decisions: {f'[bold red]{overdue}[/]' if overdue else '0'}")


def _show_portfolio(tracks: list[RoadmapTrack]) -> None:
    from rich.table import Table

    table = Table(title="Roadmap", title_justify="left")
    for col in ("use case", "stage", "planned from", "stage ends (plan)", "slip", "next decision"):
        table.add_column(col)
    table.add_column("overdue", justify="right")
    for t in tracks:
        current = t.current
        end = current.planned.end if current and current.planned else None
        source = ""
        if t.plan is not None:
            source = t.plan.start.isoformat() + (
                " (registration)" if t.plan.start_source == "registration" else ""
            )
        overdue = len(t.overdue)
        table.add_row(
            t.usecase,
            stage_text(t.stage.value if t.stage else "unregistered"),
            source or "—",
            end.isoformat() if end else "—",
            slip_text(t.slip_days),
            next_text(t),
            f"[bold red]{overdue}[/]" if overdue else "0",
        )
    console().print(table)


def _write_chart(path: Path, svg: str) -> None:
    from gates.errors import StagegateError

    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(svg + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as e:
        raise StagegateError(
            f"{target}: cannot write the chart ({e.strerror or e})",
            hint="--chart needs a writable file path in an existing folder",
        ) from None


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""

    @app.command()
    def roadmap(
        ctx: typer.Context,
        usecase: Annotated[
            str | None, typer.Argument(help="One use case (default: the portfolio).")
        ] = None,
        at: Annotated[
            str | None,
            typer.Option(help="As of this time (ISO 8601); later entries are not counted."),
        ] = None,
        chart: Annotated[
            Path | None,
            typer.Option("--chart", help="Also write a Gantt chart (SVG) to this file."),
        ] = None,
        json_out: Annotated[
            bool, typer.Option("--json", help="Print JSON instead of tables.")
        ] = False,
    ) -> None:
        """Planned against actual per stage, slip in days, the next decision and overdue ones.

        The plan is the playbook's template (Explore weeks 1–2, PoC 3–6, Pilot 7–14,
        Production from week 15) dated from the spec's start date, or from the
        registration when the spec has none; actual dates come from the ledger only.
        """
        session = session_of(ctx)
        now = parse_when(at) or datetime.now(UTC)
        known = set(session.workspace.usecases) | set(session.ledger.usecases())
        if usecase and usecase not in known:
            session.workspace.usecase(usecase)  # raises a clear "no use case" error
        ids = [usecase] if usecase else sorted(known)
        tracks = [_track(session, i, now) for i in ids]
        if chart is not None:
            from gates.roadmap.gantt import portfolio_gantt, usecase_gantt

            svg = usecase_gantt(tracks[0]) if usecase else portfolio_gantt(tracks)
            _write_chart(chart, str(svg))
        if json_out:
            print_json([t.to_json() for t in tracks])
        elif usecase:
            _show_one(tracks[0])
        else:
            _show_portfolio(tracks)
        if chart is not None:
            (err_console() if json_out else console()).print(f"Gantt chart written to {chart}")
