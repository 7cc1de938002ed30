"""Charts as inline SVG drawn in Python: no script, no external fetch, every text escaped.

A picture reads better than a table for two questions: how long has each use case been
in its stage against its time box, and how did all use cases move across the calendar.
Colour is never the only signal: bars carry their numbers and status in words, stage
segments carry their stage name, and gate markers differ in shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup

from gates.charts.palette import STAGE_COLOURS
from gates.charts.svg import WIDTH, clip, fit_text, spread
from gates.charts.svg import esc as _e
from gates.charts.svg import num as _num
from gates.charts.svg import svg_document as _svg
from gates.charts.svg import text as _text
from gates.charts.ticks import calendar_ticks, day_step
from gates.ledger.describe import stage_label
from gates.report.models import Lane, UseCaseRow

TIME_BOX_COLOURS = {
    "within": "#2563eb",
    "over-planned": "#b45309",
    "overdue": "#dc2626",
    "n/a": "#9ca3af",
}
TIME_BOX_WORDS = {
    "within": "within time box",
    "over-planned": "over planned length",
    "overdue": "OVERDUE",
    "n/a": "no time box",
}

LABEL_W = 170


def time_in_stage_chart(rows: Sequence[UseCaseRow], chart_id: str = "time-in-stage") -> Markup:
    """Horizontal bars: days in the current stage, with planned and hard-maximum markers."""
    shown = [r for r in rows if r.days_in_stage is not None]
    title = "Time in stage against the time box"
    if not shown:
        return _svg(chart_id, 40, title, "No use case has entered a stage yet.",
                    [_text(8, 24, "No use case has entered a stage yet.")])  # fmt: skip
    value_w = 230
    plot_x, plot_w = LABEL_W, WIDTH - LABEL_W - value_w
    top, row_h = 34, 40
    limit = max(max(r.days_in_stage or 0, r.planned_days or 0, r.max_days or 0) for r in shown)
    scale_max = max(7.0, limit * 1.08)

    def x(days: float) -> float:
        return plot_x + plot_w * min(days, scale_max) / scale_max

    body: list[str] = []
    step = day_step(scale_max)
    tick = 0.0
    while tick <= scale_max:
        body.append(
            f"<line x1='{_num(x(tick))}' x2='{_num(x(tick))}' y1='{top - 6}' "
            f"y2='{top + row_h * len(shown)}' stroke='#e5e7eb'/>"
        )
        body.append(_text(x(tick), top - 10, f"{_num(tick)} d", size=11, anchor="middle",
                           fill="#4b5563"))  # fmt: skip
        tick += step
    parts = []
    for i, row in enumerate(shown):
        y = top + i * row_h
        days = row.days_in_stage or 0.0
        colour = TIME_BOX_COLOURS.get(row.time_box, "#9ca3af")
        words = TIME_BOX_WORDS.get(row.time_box, row.time_box)
        if row.stage == "stopped":
            colour, words = "#9ca3af", "stopped"
        box = []
        if row.planned_days is not None:
            box.append(f"planned {row.planned_days} d")
        if row.max_days is not None:
            box.append(f"max {row.max_days} d")
        summary = f"{row.id}: {_num(days)} days in {row.stage_label}" + (
            f" ({', '.join(box)})" if box else ""
        ) + f", {words}"  # fmt: skip
        parts.append(summary)
        body.append(f"<g><title>{_e(summary)}</title>")
        body.append(_text(8, y + 15, clip(row.id, 24), weight="600"))
        body.append(_text(8, y + 29, clip(row.stage_label, 26), size=11, fill="#4b5563"))
        body.append(
            f"<rect x='{plot_x}' y='{y + 8}' width='{_num(max(x(days) - plot_x, 1.5))}' "
            f"height='16' rx='3' fill='{colour}'/>"
        )
        if row.planned_days is not None:
            px = _num(x(row.planned_days))
            body.append(
                f"<line x1='{px}' x2='{px}' y1='{y + 3}' y2='{y + 29}' stroke='#111827' "
                "stroke-width='2' stroke-dasharray='4 3'/>"
            )
        if row.max_days is not None:
            mx = _num(x(row.max_days))
            body.append(
                f"<line x1='{mx}' x2='{mx}' y1='{y + 1}' y2='{y + 31}' stroke='#111827' "
                "stroke-width='3'/>"
            )
        value = f"{_num(days)} d" + (f" / {' · '.join(box)}" if box else "")
        weight = "700" if row.time_box == "overdue" else "normal"
        body.append(_text(plot_x + plot_w + 10, y + 15, value, size=11))
        body.append(_text(plot_x + plot_w + 10, y + 29, words, size=11, weight=weight,
                           fill=colour if row.time_box == "overdue" else "#374151"))  # fmt: skip
        body.append("</g>")
    legend_y = top + row_h * len(shown) + 22
    body.append(
        f"<line x1='{plot_x}' x2='{plot_x + 22}' y1='{legend_y - 4}' y2='{legend_y - 4}' "
        "stroke='#111827' stroke-width='2' stroke-dasharray='4 3'/>"
    )
    body.append(_text(plot_x + 28, legend_y, "planned length", size=11))
    body.append(
        f"<line x1='{plot_x + 130}' x2='{plot_x + 152}' y1='{legend_y - 4}' "
        f"y2='{legend_y - 4}' stroke='#111827' stroke-width='3'/>"
    )
    body.append(_text(plot_x + 158, legend_y, "hard maximum", size=11))
    lx = plot_x + 262
    for key, word in (("within", "within"), ("over-planned", "over plan"), ("overdue", "overdue")):
        body.append(
            f"<rect x='{lx}' y='{legend_y - 10}' width='12' height='12' rx='2' "
            f"fill='{TIME_BOX_COLOURS[key]}'/>"
        )
        body.append(_text(lx + 16, legend_y, word, size=11))
        lx += 16 + 7 * len(word) + 16
    return _svg(chart_id, legend_y + 12, title, "; ".join(parts), body)


def stage_timeline_chart(
    lanes: Sequence[Lane], now: datetime, chart_id: str = "stage-timeline"
) -> Markup:
    """Gantt-like lanes, one per use case, coloured by stage across the calendar."""
    title = "Stage timeline of all use cases"
    if not lanes:
        return _svg(chart_id, 40, title, "No use case is registered yet.",
                    [_text(8, 24, "No use case is registered yet.")])  # fmt: skip
    start = min(s.start for lane in lanes for s in lane.spans)
    last = max(max((s.end or now) for s in lane.spans) for lane in lanes)
    end = max(now, last, start + timedelta(days=14))  # a young ledger still gets a calendar
    span = (end - start).total_seconds()
    plot_x, plot_w = LABEL_W, WIDTH - LABEL_W - 16
    top, lane_h = 36, 36

    def x(t: datetime) -> float:
        return plot_x + plot_w * (t - start).total_seconds() / span

    body: list[str] = []
    bottom = top + lane_h * len(lanes)
    for t, text in calendar_ticks(start, end):
        tx = _num(x(t))
        body.append(f"<line x1='{tx}' x2='{tx}' y1='{top - 8}' y2='{bottom}' stroke='#e5e7eb'/>")
        lx, anchor = fit_text(x(t), text, 11)
        body.append(_text(lx, top - 14, text, size=11, anchor=anchor, fill="#4b5563"))
    descs = []
    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        body.append(_text(8, y + 22, clip(lane.usecase, 24), weight="600"))
        stages = []
        for s in lane.spans:
            x0, x1 = x(s.start), x(s.end or now)
            width = max(x1 - x0, 2.0)
            name = stage_label(s.stage)
            until = s.end.date().isoformat() if s.end else "now"
            what = f"{lane.usecase}: {name} from {s.start.date().isoformat()} to {until}"
            stages.append(f"{name} from {s.start.date().isoformat()}")
            body.append(
                f"<g><title>{_e(what)}</title><rect x='{_num(x0)}' y='{y + 7}' "
                f"width='{_num(width)}' height='22' fill='{STAGE_COLOURS.get(s.stage, '#6b7280')}' "
                "stroke='#ffffff' stroke-width='1'/>"
            )
            if width >= 7 * len(name) + 8:
                body.append(_text(x0 + 4, y + 22, name, size=11, weight="600", fill="#ffffff"))
            body.append("</g>")
        # Gates of one day (blocked, then passed) sit side by side, in their order.
        placed = spread([x(g.time) for g in lane.gates], 15)
        for g, gx in zip(lane.gates, placed, strict=True):
            gy = y + 33
            what = (
                f"{lane.usecase} #{g.sequence}: gate {stage_label(g.from_stage)} → "
                f"{stage_label(g.to_stage)} {g.verdict} on {g.time.date().isoformat()}"
            )
            body.append(f"<g><title>{_e(what)}</title>{_gate_marker(gx, gy, g.verdict)}</g>")
        descs.append(f"{lane.usecase}: " + ", ".join(stages))
    today = _num(x(now))
    body.append(
        f"<line x1='{today}' x2='{today}' y1='{top - 6}' y2='{bottom + 2}' stroke='#111827' "
        "stroke-width='1.5' stroke-dasharray='2 2'/>"
    )
    label_x, anchor = fit_text(x(now), "today", 11, "end")
    body.append(_text(label_x, bottom + 14, "today", size=11, anchor=anchor, fill="#111827"))
    legend_y = bottom + 34
    lx = 8.0
    for stage, colour in STAGE_COLOURS.items():
        name = stage_label(stage)
        body.append(
            f"<rect x='{_num(lx)}' y='{legend_y - 10}' width='12' height='12' rx='2' "
            f"fill='{colour}'/>"
        )
        body.append(_text(lx + 16, legend_y, name, size=11))
        lx += 16 + 7 * len(name) + 14
    for verdict, word in (("pass", "gate passed"), ("blocked", "gate blocked"),
                          ("error", "gate error")):  # fmt: skip
        body.append(_gate_marker(lx + 5, legend_y - 4, verdict))
        body.append(_text(lx + 14, legend_y, word, size=11))
        lx += 14 + 7 * len(word) + 14
    return _svg(chart_id, legend_y + 12, title, "; ".join(descs), body)


def _gate_marker(x: float, y: float, verdict: str) -> str:
    """Shape says the verdict: circle passed, triangle blocked, square error."""
    cx, cy = _num(x), _num(y)
    if verdict == "pass":
        return f"<circle cx='{cx}' cy='{cy}' r='4.5' fill='#16a34a' stroke='#ffffff' stroke-width='1'/>"
    if verdict == "blocked":
        pts = f"{_num(x)},{_num(y - 5.5)} {_num(x + 5.5)},{_num(y + 4.5)} {_num(x - 5.5)},{_num(y + 4.5)}"
        return f"<polygon points='{pts}' fill='#d97706' stroke='#111827' stroke-width='1'/>"
    return (
        f"<rect x='{_num(x - 4.5)}' y='{_num(y - 4.5)}' width='9' height='9' fill='#dc2626' "
        "stroke='#111827' stroke-width='1'/>"
    )
