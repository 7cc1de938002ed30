"""Roadmap facts as short Rich-markup cells: slip, decision state, next decision.

Shared by ``stagegate roadmap`` and the ``status`` table; it imports neither Typer nor
Rich when loaded, so ``status`` can run without building the command line app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gates.roadmap.tracking import DecisionTrack, RoadmapTrack


def slip_text(days: int | None) -> str:
    if days is None:
        return "—"
    if days == 0:
        return "on plan"
    return f"[bold red]+{days} d[/]" if days > 0 else f"[green]{days} d[/]"


def decision_state_text(d: DecisionTrack) -> str:
    from rich.markup import escape

    if d.state == "taken":
        when = d.taken_at.date().isoformat() if d.taken_at else "earlier"
        return f"[green]decided[/] {when}" + (f" (#{d.entry})" if d.entry is not None else "")
    if d.state == "overdue":
        return f"[bold red]OVERDUE by {d.days_overdue} d[/]"
    if d.state == "upcoming":
        return "[yellow]due soon[/]"
    if d.state == "no-go":
        return "[red]No-Go[/]" + (f" ({escape(d.note)})" if d.note else "")
    return d.state + (f" ({escape(d.note)})" if d.note else "")


def next_text(track: RoadmapTrack, *, compact: bool = False) -> str:
    """The next decision and its due day; ``compact`` (for the status table) drops the word
    "overdue", which the table's overdue count already says."""
    from rich.markup import escape

    nxt = track.next_decision
    if nxt is None:
        return "—"
    if compact:
        style = "bold red" if nxt.state == "overdue" else ""
        text = f"{escape(nxt.label)} {nxt.due.isoformat()}"
        return f"[{style}]{text}[/]" if style else text
    flag = " [bold red]overdue[/]" if nxt.state == "overdue" else ""
    return f"{escape(nxt.label)} · {nxt.due.isoformat()}{flag}"
