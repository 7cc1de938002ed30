"""The monthly operations report's pictures: one line chart per measure, day by day.

Inline SVG from the shared pieces (``gates.charts``): days of the month along x, the
measure along y, thresholds as labelled dashed lines. Lines differ by dash as well as
colour, each point carries its value in a tooltip, and the description lists every
value, so colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from gates.charts.svg import GRID, MUTED, WIDTH, svg_document
from gates.charts.svg import esc as _e
from gates.charts.svg import num as _n
from gates.charts.svg import text as _text
from gates.recheck.monthly import MonthlyReport
from gates.recheck.monthly_figures import PERCENTILES, Month, pct

HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 36
COLOURS = ("#0369a1", "#7e22ce", "#b91c1c")
DASHES = ("", "6 3", "2 3")
REF_COLOUR, WARN_COLOUR = "#b45309", "#dc2626"

Points = Sequence[tuple[date, float]]


@dataclass(frozen=True)
class Line:
    label: str
    points: Points


@dataclass(frozen=True)
class Ref:
    """A horizontal threshold line with its label."""

    label: str
    value: float
    colour: str = REF_COLOUR


def daily_chart(
    chart_id: str,
    title: str,
    month: Month,
    lines: Sequence[Line],
    refs: Sequence[Ref],
    shown: Callable[[float], str],
    *,
    floor: float | None = None,
    projection: tuple[tuple[date, float], tuple[date, float]] | None = None,
) -> Markup:
    """Lines over the month's days, with threshold lines; ``projection`` is a dashed segment."""
    values = [v for line in lines for _, v in line.points] + [r.value for r in refs]
    if projection is not None:
        values += [projection[0][1], projection[1][1]]
    if not any(line.points for line in lines):
        note = "Nothing observed this month."
        return svg_document(chart_id, 60, title, note, [_text(8, 30, note)])
    low = min(values) if floor is None else floor
    high = max(values)
    span = high - low or abs(high) or 1.0
    low, high = (low if floor is not None else low - span * 0.1), high + span * 0.12
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + plot_w * (day.day - 0.5) / month.days

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    body: list[str] = []
    for i in range(5):
        value = low + (high - low) * i / 4
        body.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{_n(y(value))}' y2='{_n(y(value))}' "
            f"stroke='{GRID}'/>"
        )
        body.append(_text(LEFT - 6, y(value) + 4, shown(value), size=11, anchor="end", fill=MUTED))
    for day in month.dates():
        if day.day == 1 or day.day % 5 == 0:
            body.append(_text(x(day), HEIGHT - BOTTOM + 16, day.strftime("%d %b"), size=11,
                              anchor="middle", fill=MUTED))  # fmt: skip
    for ref in refs:
        ry = _n(y(ref.value))
        body.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{ry}' y2='{ry}' stroke='{ref.colour}' "
            "stroke-width='1.5' stroke-dasharray='8 4'/>"
        )
        body.append(_text(WIDTH - RIGHT - 4, y(ref.value) - 4, f"{ref.label}: {shown(ref.value)}",
                          size=11, anchor="end", fill=ref.colour, weight="600"))  # fmt: skip
    legend_x = LEFT
    for i, line in enumerate(lines):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        dashed = f" stroke-dasharray='{dash}'" if dash else ""
        coords = [(x(d), y(v), d, v) for d, v in line.points]
        if len(coords) > 1:
            path = " ".join(f"{_n(px)},{_n(py)}" for px, py, _, _ in coords)
            body.append(
                f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'"
                f"{dashed}/>"
            )
        for px, py, d, v in coords:
            body.append(
                f"<circle cx='{_n(px)}' cy='{_n(py)}' r='3' fill='{colour}'>"
                f"<title>{_e(f'{line.label} on {d.isoformat()}: {shown(v)}')}</title></circle>"
            )
        if len(lines) > 1 or projection is not None:
            body.append(
                f"<line x1='{legend_x}' x2='{legend_x + 24}' y1='16' y2='16' stroke='{colour}' "
                f"stroke-width='2'{dashed}/>"
            )
            body.append(_text(legend_x + 30, 20, line.label, size=11, fill=colour, weight="600"))
            legend_x += 40 + 7 * len(line.label)
    if projection is not None:
        (d0, v0), (d1, v1) = projection
        body.append(
            f"<line x1='{_n(x(d0))}' y1='{_n(y(v0))}' x2='{_n(x(d1))}' y2='{_n(y(v1))}' "
            f"stroke='{COLOURS[0]}' stroke-width='2' stroke-dasharray='3 3' opacity='0.8'/>"
        )
        body.append(
            f"<line x1='{legend_x}' x2='{legend_x + 24}' y1='16' y2='16' stroke='{COLOURS[0]}' "
            "stroke-width='2' stroke-dasharray='3 3'/>"
        )
        body.append(_text(legend_x + 30, 20, "at the run-rate to month end", size=11,
                          fill=COLOURS[0], weight="600"))  # fmt: skip
    desc = "; ".join(
        f"{line.label}: " + ", ".join(f"{d.day} {shown(v)}" for d, v in line.points)
        for line in lines
    )
    if refs:
        desc += "; " + "; ".join(f"{r.label} {shown(r.value)}" for r in refs)
    return svg_document(chart_id, HEIGHT, title, desc, body)


def availability_chart(report: MonthlyReport) -> Markup:
    points = [(d.day, d.availability) for d in report.days if d.availability is not None]
    minimum = report.rule.availability_min
    return daily_chart(
        "month-availability", "Availability per day", report.month,
        [Line("availability", points)], [Ref("minimum", minimum, WARN_COLOUR)],
        lambda v: pct(v, 3),
    )  # fmt: skip


def latency_chart(report: MonthlyReport) -> Markup:
    lines, refs = [], []
    for p in PERCENTILES:
        points = [(d.day, v) for d in report.days if (v := d.latency(p)) is not None]
        if points:
            lines.append(Line(p.upper(), points))
        limit = getattr(report.rule.latency_ms, p)
        if limit is not None:
            refs.append(Ref(f"{p.upper()} threshold", float(limit)))
    return daily_chart(
        "month-latency", "Latency P50, P95 and P99 per day (ms)", report.month, lines, refs,
        lambda v: f"{v:,.0f}", floor=0.0,
    )  # fmt: skip


def error_rate_chart(report: MonthlyReport) -> Markup:
    points = [(d.day, d.error_rate) for d in report.days if d.error_rate is not None]
    return daily_chart(
        "month-error-rate", "Error rate per day", report.month,
        [Line("error rate", points)], [Ref("threshold", report.rule.error_rate.max, WARN_COLOUR)],
        lambda v: pct(v, 2), floor=0.0,
    )  # fmt: skip


def quality_chart(report: MonthlyReport) -> Markup:
    q = report.rule.quality
    daily = [(d.day, d.quality) for d in report.days if d.quality is not None]
    weekly = [(w.last, w.quality) for w in report.weeks if w.quality is not None]
    refs = []
    if q.target is not None:
        refs = [Ref("target", q.target), Ref(f"floor (−{pct(q.max_drop)})",
                                             q.target * (1 - q.max_drop), WARN_COLOUR)]  # fmt: skip
    return daily_chart(
        "month-quality", f"Quality ({q.metric}) per day and per week", report.month,
        [Line("daily", daily), Line("weekly mean", weekly)], refs, lambda v: f"{v:.3g}",
    )  # fmt: skip


def cost_chart(report: MonthlyReport) -> Markup:
    cost = report.cost
    refs = []
    if cost.budget:
        refs = [
            Ref("budget", cost.budget, WARN_COLOUR),
            Ref(f"alert mark ({pct(cost.warn_ratio)})", cost.budget * cost.warn_ratio),
        ]
    projection = None
    if cost.cumulative and cost.filled_days:
        last_day, spent = cost.cumulative[-1]
        end = report.month.dates()[-1]
        projection = ((last_day, spent), (end, cost.total)) if end > last_day else None
    return daily_chart(
        "month-cost", f"Spend over the month, accumulated ({cost.currency})", report.month,
        [Line("spent", cost.cumulative)], refs, lambda v: f"{v:,.0f}", floor=0.0,
        projection=projection,
    )  # fmt: skip
