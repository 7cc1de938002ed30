"""Roadmap Gantt charts as inline SVG: the plan against what the ledger shows.

Drawn in Python like the report's other charts: no script, no external fetch, every
text escaped, and colour never the only signal. Planned bars are pale with a dashed
outline, actual bars solid; each row names its stage (or use case) and slip in words;
decision markers differ in shape (filled diamond decided, hollow diamond open, red
triangle overdue, cross stopped) and overdue ones are labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup

from gates.charts.palette import STAGE_COLOURS
from gates.charts.svg import WIDTH, fit_text, spread, text_width
from gates.charts.svg import esc as _e
from gates.charts.svg import num as _num
from gates.charts.svg import svg_document as _svg
from gates.charts.svg import text as _text
from gates.charts.ticks import calendar_ticks
from gates.roadmap.tracking import DecisionTrack, RoadmapTrack, StageTrack
from gates.stages import ROADMAP

LABEL_W = 178
TOP = 40
OVERDUE = "#b91c1c"
DECIDED = "#15803d"
OPEN = "#374151"


def slip_words(days: int | None) -> str:
    if days is None:
        return "no slip figure"
    if days == 0:
        return "on plan"
    return f"{days} d late" if days > 0 else f"{-days} d early"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class _Calendar:
    """Maps times to x across the plot, with readable ticks."""

    def __init__(self, moments: Sequence[datetime], plot_x: float, plot_w: float) -> None:
        self.start = min(moments) - timedelta(days=2)
        self.end = max(max(moments) + timedelta(days=7), self.start + timedelta(days=28))
        self.plot_x, self.plot_w = plot_x, plot_w
        self.span = (self.end - self.start).total_seconds()

    def x(self, moment: datetime) -> float:
        clamped = min(max(moment, self.start), self.end)
        return self.plot_x + self.plot_w * (clamped - self.start).total_seconds() / self.span

    def ticks(self) -> list[tuple[datetime, str]]:
        return calendar_ticks(self.start, self.end, weekly_up_to_days=70)

    def grid(self, top: float, bottom: float) -> list[str]:
        body = []
        for t, text in self.ticks():
            tx = _num(self.x(t))
            body.append(
                f"<line x1='{tx}' x2='{tx}' y1='{top - 8}' y2='{bottom}' stroke='#e5e7eb'/>"
            )
            lx, anchor = fit_text(self.x(t), text, 11)
            body.append(_text(lx, top - 14, text, size=11, anchor=anchor, fill="#4b5563"))
        return body

    def today(self, at: datetime, top: float, bottom: float) -> list[str]:
        ax = _num(self.x(at))
        label = f"today {at.date().isoformat()}"
        lx, anchor = fit_text(self.x(at), label, 11, "end")
        return [
            f"<line x1='{ax}' x2='{ax}' y1='{top - 6}' y2='{bottom + 2}' stroke='#111827' "
            "stroke-width='1.5' stroke-dasharray='2 2'/>",
            _text(lx, bottom + 14, label, size=11, anchor=anchor),
        ]


def _moments(track: RoadmapTrack) -> list[datetime]:
    found = [track.at]
    if track.plan is not None:
        for p in track.plan.stages:
            found.append(_midnight(p.start))
            if p.end is not None:
                found.append(_midnight(p.end + timedelta(days=1)))
    for s in track.stages:
        for v in s.visits:
            found.append(v.start)
            if v.end is not None:
                found.append(v.end)
    found.extend(_midnight(d.due + timedelta(days=1)) for d in track.decisions)
    return found


def _planned_bar(cal: _Calendar, s: StageTrack, y: float, height: float, what: str) -> str:
    p = s.planned
    if p is None:
        return ""
    x0 = cal.x(_midnight(p.start))
    x1 = cal.x(_midnight(p.end + timedelta(days=1))) if p.end else cal.x(cal.end)
    colour = STAGE_COLOURS.get(s.stage.value, "#6b7280")
    until = p.end.isoformat() if p.end else "ongoing"
    weeks = f"weeks {p.first_week}–{p.last_week}" if p.last_week else f"from week {p.first_week}"
    tip = f"{what}: {s.stage.label} planned {p.start.isoformat()} to {until} ({weeks})"
    return (
        f"<g><title>{_e(tip)}</title><rect x='{_num(x0)}' y='{_num(y)}' "
        f"width='{_num(max(x1 - x0, 2.0))}' height='{_num(height)}' fill='{colour}' "
        f"fill-opacity='0.22' stroke='{colour}' stroke-width='1.2' stroke-dasharray='4 2'/></g>"
    )


def _actual_bars(
    cal: _Calendar, s: StageTrack, at: datetime, y: float, height: float, what: str
) -> list[str]:
    colour = STAGE_COLOURS.get(s.stage.value, "#6b7280")
    out = []
    for v in s.visits:
        end = v.end or at
        x0, x1 = cal.x(v.start), cal.x(end)
        until = v.end.date().isoformat() if v.end else "now"
        left = f", left by {v.left_by}" if v.left_by else ""
        tip = f"{what}: {s.stage.label} actual {v.start.date().isoformat()} to {until}{left}"
        out.append(
            f"<g><title>{_e(tip)}</title><rect x='{_num(x0)}' y='{_num(y)}' "
            f"width='{_num(max(x1 - x0, 2.0))}' height='{_num(height)}' rx='2' "
            f"fill='{colour}'/></g>"
        )
    return out


def _marker(x: float, y: float, state: str, size: float = 6.0) -> str:
    """Shape says the state: filled diamond decided, hollow open, triangle overdue, cross stopped."""
    r = size
    diamond = f"{_num(x)},{_num(y - r)} {_num(x + r)},{_num(y)} {_num(x)},{_num(y + r)} {_num(x - r)},{_num(y)}"  # fmt: skip
    if state == "taken":
        return f"<polygon points='{diamond}' fill='{DECIDED}' stroke='#ffffff' stroke-width='1'/>"
    if state == "overdue":
        tri = f"{_num(x)},{_num(y + r)} {_num(x + r)},{_num(y - r + 1)} {_num(x - r)},{_num(y - r + 1)}"  # fmt: skip
        return f"<polygon points='{tri}' fill='{OVERDUE}' stroke='#111827' stroke-width='1'/>"
    if state in ("no-go", "cancelled"):
        d = r * 0.7
        return (
            f"<path d='M{_num(x - d)} {_num(y - d)} L{_num(x + d)} {_num(y + d)} "
            f"M{_num(x - d)} {_num(y + d)} L{_num(x + d)} {_num(y - d)}' stroke='#4b5563' "
            "stroke-width='2'/>"
        )
    return f"<polygon points='{diamond}' fill='#ffffff' stroke='{OPEN}' stroke-width='1.5'/>"


def _stop_mark(cal: _Calendar, track: RoadmapTrack, y: float) -> str:
    """A cross where a No-Go stopped the use case, labelled in words."""
    if track.stopped_at is None:
        return ""
    x = cal.x(track.stopped_at)
    words = f"{track.usecase} stopped on {track.stopped_at.date().isoformat()}"
    lx, anchor = _beside(x + 8, "stopped", 10)
    return (
        f"<g><title>{_e(words)}</title>{_marker(x + 8, y, 'cancelled', 5)}"
        f"{_text(lx, y + 4, 'stopped', size=10, fill='#374151', anchor=anchor)}</g>"
    )


def _beside(x: float, label: str, size: int) -> tuple[float, str]:
    """A marker's label to its right, or to its left when the right edge would cut it."""
    if x + 8 + text_width(label, size) <= WIDTH - 2:
        return x + 8, "start"
    return x - 8, "end"


def _decision_words(d: DecisionTrack) -> str:
    head = f"week {d.planned.week}: {d.label} due {d.due.isoformat()}"
    if d.state == "taken":
        taken = d.taken_at.date().isoformat() if d.taken_at else "earlier"
        return f"{head}, decided {taken}" + (f" (entry #{d.entry})" if d.entry is not None else "")
    if d.state == "overdue":
        return f"{head}, OVERDUE by {d.days_overdue} d"
    if d.state == "no-go":
        return f"{head}, answered No-Go"
    return f"{head}, {d.state}" + (f" ({d.note})" if d.note else "")


def _legend(y: float) -> list[str]:
    """Two lines: bar kinds and decision markers, then the stage colours."""
    body = [
        f"<rect x='8' y='{_num(y - 10)}' width='22' height='10' fill='#6b7280' "
        "fill-opacity='0.22' stroke='#6b7280' stroke-dasharray='4 2'/>",
        _text(34, y, "planned", size=11),
        f"<rect x='92' y='{_num(y - 11)}' width='22' height='12' rx='2' fill='#6b7280'/>",
        _text(118, y, "actual", size=11),
    ]
    lx = 176.0
    for state, word in (("taken", "decided"), ("open", "open"), ("overdue", "overdue"),
                        ("cancelled", "stopped")):  # fmt: skip
        body.append(_marker(lx, y - 4, state, 5))
        body.append(_text(lx + 9, y, word, size=11))
        lx += 9 + 7 * len(word) + 16
    lx, y = 8.0, y + 18
    for stage in ROADMAP:
        colour = STAGE_COLOURS.get(stage.value, "#6b7280")
        body.append(
            f"<rect x='{_num(lx)}' y='{_num(y - 10)}' width='10' height='10' rx='2' "
            f"fill='{colour}'/>"
        )
        body.append(_text(lx + 13, y, stage.label, size=11))
        lx += 13 + 7 * len(stage.label) + 12
    return body


def usecase_gantt(track: RoadmapTrack, chart_id: str = "roadmap") -> Markup:
    """One use case: per stage a planned bar over its actual bars; decisions; today."""
    title = f"Roadmap of {track.usecase}: planned against actual"
    if track.plan is None or not track.stages:
        return _svg(chart_id, 40, title, track.note, [_text(8, 24, f"{track.usecase}: {track.note}")])  # fmt: skip
    cal = _Calendar(_moments(track), LABEL_W, WIDTH - LABEL_W - 16)
    row_h = 46
    rows = len(track.stages)
    decisions_y = TOP + rows * row_h + 20
    bottom = decisions_y + 14
    body = cal.grid(TOP, bottom)
    descs = []
    for i, s in enumerate(track.stages):
        y = TOP + i * row_h
        state = s.state.replace("-", " ")
        slip = slip_words(s.slip_days) if s.slip_days is not None else state
        line = f"{s.stage.label}: {state}" + (
            f", {slip_words(s.slip_days)}" if s.slip_days is not None else ""
        )
        descs.append(line)
        body.append(f"<g><title>{_e(line)}</title>")
        body.append(_text(8, y + 17, s.stage.label, weight="600"))
        late = s.slip_days is not None and s.slip_days > 0
        body.append(_text(8, y + 32, slip, size=11, weight="700" if late else "normal",
                          fill=OVERDUE if late else "#4b5563"))  # fmt: skip
        body.append("</g>")
        body.append(_planned_bar(cal, s, y + 5, 12, track.usecase))
        body.extend(_actual_bars(cal, s, track.at, y + 20, 16, track.usecase))
        if s.state == "stopped":
            body.append(_stop_mark(cal, track, y + 28))
    body.append(_text(8, decisions_y + 4, "Decisions", weight="600"))
    # Decisions due close together sit side by side instead of on top of each other.
    placed = spread([cal.x(_midnight(d.due + timedelta(days=1))) for d in track.decisions], 14)
    for d, dx in zip(track.decisions, placed, strict=True):
        words = _decision_words(d)
        descs.append(words)
        guide = OVERDUE if d.state == "overdue" else "#9ca3af"
        body.append(
            f"<g><title>{_e(words)}</title><line x1='{_num(dx)}' x2='{_num(dx)}' y1='{TOP - 4}' "
            f"y2='{decisions_y - 8}' stroke='{guide}' stroke-width='1' stroke-dasharray='1 3'/>"
            f"{_marker(dx, decisions_y, d.state)}</g>"
        )
        tag = f"W{d.planned.week}" + (" overdue" if d.state == "overdue" else "")
        tx, anchor = _beside(dx, tag, 10)
        body.append(_text(tx, decisions_y + 4, tag, size=10, anchor=anchor,
                          weight="700" if d.state == "overdue" else "normal",
                          fill=OVERDUE if d.state == "overdue" else "#374151"))  # fmt: skip
    body.extend(cal.today(track.at, TOP, bottom))
    legend_y = bottom + 36
    body.extend(_legend(legend_y))
    return _svg(chart_id, legend_y + 28, title, "; ".join(descs), body)


def portfolio_gantt(tracks: Sequence[RoadmapTrack], chart_id: str = "roadmap-portfolio") -> Markup:
    """Every use case, one row each: planned stages (pale) over actual stages (solid)."""
    title = "Roadmap of all use cases: planned against actual"
    planned = [t for t in tracks if t.plan is not None]
    if not planned:
        return _svg(chart_id, 40, title, "No use case has a roadmap to draw yet.",
                    [_text(8, 24, "No use case has a roadmap to draw yet.")])  # fmt: skip
    at = max(t.at for t in planned)
    cal = _Calendar([m for t in planned for m in _moments(t)], LABEL_W, WIDTH - LABEL_W - 16)
    row_h = 48
    bottom = TOP + row_h * len(planned)
    body = cal.grid(TOP, bottom)
    descs = []
    for i, t in enumerate(planned):
        y = TOP + i * row_h
        stage = t.stage.label if t.stage else "not registered"
        overdue = len(t.overdue)
        second = stage + (f" · {slip_words(t.slip_days)}" if t.slip_days is not None else "")
        nxt = t.next_decision
        line = f"{t.usecase}: {second}; {overdue} overdue decision(s)" + (
            f"; next: {nxt.label} due {nxt.due.isoformat()}" if nxt else ""
        )
        descs.append(line)
        body.append(f"<g><title>{_e(line)}</title>")
        body.append(_text(8, y + 16, t.usecase[:24] + ("…" if len(t.usecase) > 24 else ""),
                          weight="600"))  # fmt: skip
        body.append(_text(8, y + 30, second, size=11, fill="#4b5563"))
        if overdue:
            body.append(_text(8, y + 43, f"{overdue} overdue decision(s)", size=11,
                              weight="700", fill=OVERDUE))  # fmt: skip
        body.append("</g>")
        for s in t.stages:
            body.append(_planned_bar(cal, s, y + 6, 10, t.usecase))
            body.extend(_actual_bars(cal, s, t.at, y + 19, 14, t.usecase))
        if t.stopped_at is not None:
            body.append(_stop_mark(cal, t, y + 26))
        shown = [d for d in t.decisions if d.state in ("overdue", "upcoming", "open")]
        placed = spread([cal.x(_midnight(d.due + timedelta(days=1))) for d in shown], 12)
        for d, dx in zip(shown, placed, strict=True):
            body.append(
                f"<g><title>{_e(t.usecase + ' ' + _decision_words(d))}</title>"
                f"{_marker(dx, y + 40, d.state, 5)}</g>"
            )
    body.extend(cal.today(at, TOP, bottom))
    legend_y = bottom + 36
    body.extend(_legend(legend_y))
    return _svg(chart_id, legend_y + 28, title, "; ".join(descs), body)
