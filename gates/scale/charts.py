"""The Scale review's three pictures as inline SVG: no script, no fetch, every text escaped.

New use cases in Production per quarter against the goal line, the share of departments
with a use case in Production over time, and the median Explore → Production days per
quarter (falling is the reuse effect). Every value is also written as text on the
chart, so colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from markupsafe import Markup

from gates.charts.svg import GRID, MUTED, WIDTH, svg_document
from gates.charts.svg import esc as _e
from gates.charts.svg import num as _n
from gates.charts.svg import text as svg_text
from gates.charts.ticks import even_ticks, round_step
from gates.scale.metrics import QuarterMetrics

HEIGHT = 250
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 34, 44
BAR, LINE, GOAL = "#15803d", "#0369a1", "#b45309"


#: Scale charts label bars and quarters: centred, a size smaller than the other charts.
_text = partial(svg_text, anchor="middle", size=11)


def _svg(chart_id: str, title: str, desc: str, body: list[str]) -> Markup:
    return svg_document(chart_id, HEIGHT, title, desc, body)


class _Plot:
    """Quarters along x (one band each), a value scale along y."""

    def __init__(self, quarters: Sequence[QuarterMetrics], top_value: float) -> None:
        self.labels = [q.quarter.label for q in quarters]
        self.top_value = top_value if top_value > 0 else 1.0
        self.band = (WIDTH - LEFT - RIGHT) / max(len(self.labels), 1)

    def x(self, i: int) -> float:
        return LEFT + self.band * (i + 0.5)

    def y(self, value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(value, self.top_value) / self.top_value)

    def axes(self, ticks: Sequence[float], shown: Callable[[float], str]) -> list[str]:
        body = []
        for t in ticks:
            y = _n(self.y(t))
            body.append(
                f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y}' y2='{y}' stroke='{GRID}'/>"
            )
            body.append(_text(LEFT - 6, self.y(t) + 4, shown(t), anchor="end", fill=MUTED))
        for i, label in enumerate(self.labels):
            body.append(_text(self.x(i), HEIGHT - BOTTOM + 18, label, fill=MUTED))
        return body


def _empty(chart_id: str, title: str) -> Markup:
    note = "No quarter to show yet."
    return _svg(chart_id, title, note, [_text(WIDTH / 2, HEIGHT / 2, note)])


def production_chart(
    quarters: Sequence[QuarterMetrics], goal: int, chart_id: str = "scale-production"
) -> Markup:
    """Bars: new use cases reaching Production per quarter; dashed line: the goal."""
    title = "New use cases reaching Production per quarter, against the goal"
    if not quarters:
        return _empty(chart_id, title)
    counts = [q.production_count for q in quarters]
    top = float(max([*counts, goal, 1]) + 1)
    plot = _Plot(quarters, top)
    step = max(1, round(top / 4))
    body = plot.axes([float(t) for t in range(0, int(top) + 1, step)], lambda v: f"{v:.0f}")
    width = min(plot.band * 0.6, 60)
    for i, count in enumerate(counts):
        met = "goal met" if count >= goal else "below goal"
        x0, y0 = plot.x(i) - width / 2, plot.y(count)
        body.append(
            f"<g><title>{_e(f'{plot.labels[i]}: {count} ({met})')}</title>"
            f"<rect x='{_n(x0)}' y='{_n(y0)}' width='{_n(width)}' "
            f"height='{_n(plot.y(0) - y0)}' fill='{BAR}'/></g>"
        )
        body.append(_text(plot.x(i), y0 - 5, str(count), weight="600"))
    gy = _n(plot.y(goal))
    body.append(
        f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{gy}' y2='{gy}' stroke='{GOAL}' "
        "stroke-width='2' stroke-dasharray='6 4'/>"
    )
    # The legend sits above the plot, where no bar can hide it.
    lx = WIDTH - RIGHT - 150
    body.append(
        f"<line x1='{lx}' x2='{lx + 28}' y1='14' y2='14' stroke='{GOAL}' stroke-width='2' "
        "stroke-dasharray='6 4'/>"
    )
    body.append(
        _text(lx + 34, 18, f"goal: {goal} per quarter", anchor="start", fill=GOAL, weight="600")
    )
    desc = "; ".join(f"{label}: {c}" for label, c in zip(plot.labels, counts, strict=True))
    return _svg(chart_id, title, f"{desc}; goal {goal} per quarter", body)


def _line(plot: _Plot, values: Sequence[float | None], shown: Callable[[float], str]) -> list[str]:
    """A line through the quarters that have a value (gaps are skipped), each point labelled."""
    points = [(plot.x(i), plot.y(v), v) for i, v in enumerate(values) if v is not None]
    body = []
    if len(points) > 1:
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y, _ in points)
        body.append(f"<polyline points='{path}' fill='none' stroke='{LINE}' stroke-width='2.5'/>")
    for x, y, v in points:
        body.append(f"<circle cx='{_n(x)}' cy='{_n(y)}' r='4' fill='{LINE}'/>")
        body.append(_text(x, y - 9, shown(v), weight="600"))
    return body


def department_share_chart(
    quarters: Sequence[QuarterMetrics], chart_id: str = "scale-departments"
) -> Markup:
    """Share of departments with a use case in Production at each quarter's end."""
    title = "Share of departments with a use case in Production, at quarter end"
    if not quarters:
        return _empty(chart_id, title)
    plot = _Plot(quarters, 1.0)

    def pct(v: float) -> str:
        return f"{v:.0%}"

    values = [q.department_share for q in quarters]
    body = plot.axes(even_ticks(1.0), pct) + _line(plot, values, pct)
    desc = "; ".join(
        f"{q.quarter.label}: {pct(v) if v is not None else 'no department yet'}"
        f" ({len(q.departments_in_production)} of {len(q.departments)})"
        for q, v in zip(quarters, values, strict=True)
    )
    return _svg(chart_id, title, desc, body)


def adoption_days_chart(quarters: Sequence[QuarterMetrics], chart_id: str = "scale-days") -> Markup:
    """Median days from Explore to Production of the use cases reaching Production each quarter."""
    title = "Median days from Explore to Production, per quarter (falling: reuse pays off)"
    if not quarters:
        return _empty(chart_id, title)
    values = [q.median_adoption_days for q in quarters]
    step = round_step(max([v for v in values if v is not None] + [30.0]) * 1.1)
    top = step * 4
    plot = _Plot(quarters, top)

    def days(v: float) -> str:
        return f"{v:.0f} d"

    body = plot.axes(even_ticks(top), days) + _line(plot, values, days)
    desc = "; ".join(
        f"{q.quarter.label}: {days(v) if v is not None else 'none reached Production'}"
        for q, v in zip(quarters, values, strict=True)
    )
    return _svg(chart_id, title, desc, body)
