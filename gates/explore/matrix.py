"""The priority matrix (impact × feasibility) as SVG, drawn in Python with no dependencies.

The same drawing is a standalone file (``stagegate explore score --matrix``) and an
inline chart in the report. No script, no external fetch, every text escaped. Colour is
never the only signal: quadrants carry their names, markers carry their rank, selected
candidates get a second ring and the word "selected", and a numbered list under the
plot repeats every candidate with its score and quadrant.
"""

from __future__ import annotations

from collections.abc import Collection

from gates.charts.svg import FONT, WIDTH, clip
from gates.charts.svg import esc as _e
from gates.charts.svg import num as _n
from gates.charts.svg import text as _text
from gates.explore.rules import LEVELS
from gates.explore.scoring import QUADRANTS, Ranking, ScoredCandidate

PLOT_X, PLOT_W = 92, 640
TOP, PLOT_H = 44, 340
ROW_H = 18

#: Quadrant backgrounds (light) and marker colours (dark enough for white text).
QUADRANT_COLOURS = {
    "quick-win": ("#dcfce7", "#15803d"),
    "strategic-bet": ("#dbeafe", "#1d4ed8"),
    "moonshot": ("#fef3c7", "#b45309"),
    "deprioritise": ("#f3f4f6", "#4b5563"),
}
IMPACT_LEVELS = LEVELS["impact"]


def _y(feasibility: float) -> float:
    """Feasibility 0–1 to a y inside the plot, keeping markers clear of the edges."""
    return TOP + 16 + (PLOT_H - 32) * (1 - feasibility)


def _positions(ranking: Ranking) -> dict[str, tuple[float, float, str]]:
    """x, y and label side of each marker: candidates sharing a column spread sideways.

    A lone marker is labelled below; in a shared column the leftmost marker is labelled
    on its left and the others on their right, so neighbours' labels do not collide.
    """
    col_w = PLOT_W / len(IMPACT_LEVELS)
    placed: dict[str, tuple[float, float, str]] = {}
    for col, level in enumerate(IMPACT_LEVELS):
        members = sorted(
            (s for s in ranking.ranked if s.candidate.impact == level),
            key=lambda s: (-s.feasibility, s.id),
        )
        for i, s in enumerate(members):
            x = PLOT_X + col_w * (col + 0.15 + 0.7 * (i + 0.5) / len(members))
            if len(members) == 1:
                side = "below"
            elif i == 0 and col > 0:
                side = "left"
            elif col == 0:
                side = "below" if i % 2 == 0 else "above"
            else:
                side = "right"
            placed[s.id] = (x, _y(s.feasibility), side)
    return placed


def _quadrants(feasible_at: float) -> list[str]:
    mid_x, split_y = PLOT_X + PLOT_W / 2, _y(feasible_at)
    bottom, right = TOP + PLOT_H, PLOT_X + PLOT_W
    boxes = {  # (high impact, feasible): x, y, width, height
        (False, True): (PLOT_X, TOP, mid_x - PLOT_X, split_y - TOP),
        (True, True): (mid_x, TOP, right - mid_x, split_y - TOP),
        (True, False): (mid_x, split_y, right - mid_x, bottom - split_y),
        (False, False): (PLOT_X, split_y, mid_x - PLOT_X, bottom - split_y),
    }
    body = []
    for key, (x, y, w, h) in boxes.items():
        quadrant = QUADRANTS[key]
        light, dark = QUADRANT_COLOURS[quadrant.key]
        body.append(
            f"<rect x='{_n(x)}' y='{_n(y)}' width='{_n(w)}' height='{_n(h)}' fill='{light}'/>"
        )
        high, feasible = key
        tx = x + w - 8 if high else x + 8
        ty = y + 16 if feasible else y + h - 8
        body.append(
            _text(
                tx,
                ty,
                quadrant.label.upper(),
                size=11,
                weight="700",
                fill=dark,
                anchor="end" if high else "start",
            )
        )
    return body


def _axes(feasible_at: float) -> list[str]:
    col_w = PLOT_W / len(IMPACT_LEVELS)
    bottom = TOP + PLOT_H
    body = [
        f"<rect x='{PLOT_X}' y='{TOP}' width='{PLOT_W}' height='{PLOT_H}' fill='none' "
        "stroke='#9ca3af'/>"
    ]
    for col, level in enumerate(IMPACT_LEVELS):
        x = PLOT_X + col_w * col
        if col:
            width = "2" if col == len(IMPACT_LEVELS) // 2 else "1"
            body.append(
                f"<line x1='{_n(x)}' x2='{_n(x)}' y1='{TOP}' y2='{bottom}' stroke='#9ca3af' "
                f"stroke-width='{width}' stroke-dasharray='3 3'/>"
            )
        body.append(_text(x + col_w / 2, bottom + 18, level.replace("_", " "), anchor="middle"))
    body.append(
        _text(
            PLOT_X + PLOT_W / 2,
            bottom + 38,
            "Impact if it works → (medium is the best start; very high is risky)",
            anchor="middle",
            weight="600",
        )
    )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            _text(PLOT_X - 8, _y(tick) + 4, f"{tick:.2f}", size=11, anchor="end", fill="#4b5563")
        )
    mid_y = TOP + PLOT_H / 2
    body.append(
        _text(
            24,
            mid_y,
            "Feasibility →",
            anchor="middle",
            weight="600",
            extra=f" transform='rotate(-90 24 {_n(mid_y)})'",
        )
    )
    line_y = _y(feasible_at)
    body.append(
        f"<line x1='{PLOT_X}' x2='{PLOT_X + PLOT_W}' y1='{_n(line_y)}' y2='{_n(line_y)}' "
        "stroke='#111827' stroke-width='1.5' stroke-dasharray='6 4'/>"
    )
    body.append(
        _text(
            PLOT_X + PLOT_W / 2,
            line_y - 5,
            f"feasible at ≥ {feasible_at:g}",
            size=11,
            anchor="middle",
            fill="#111827",
        )
    )
    return body


def _summary(s: ScoredCandidate, selected: bool) -> str:
    impact = s.candidate.impact.replace("_", " ")
    return (
        f"{s.rank}. {s.id} ({s.candidate.title}): score {s.score:g}, impact {impact}, "
        f"feasibility {s.feasibility:.2f}, {s.quadrant.label}" + (", selected" if selected else "")
    )


def _marker(s: ScoredCandidate, x: float, y: float, side: str, selected: bool) -> list[str]:
    _, dark = QUADRANT_COLOURS[s.quadrant.key]
    body = [f"<g><title>{_e(_summary(s, selected))}</title>"]
    if selected:
        body.append(
            f"<circle cx='{_n(x)}' cy='{_n(y)}' r='15' fill='#ffffff' stroke='#111827' "
            "stroke-width='2'/>"
        )
    body.append(
        f"<circle cx='{_n(x)}' cy='{_n(y)}' r='11' fill='{dark}' stroke='#ffffff' "
        "stroke-width='1.5'/>"
    )
    body.append(
        _text(x, y + 4, str(s.rank), size=11, weight="700", anchor="middle", fill="#ffffff")
    )
    gap = 20 if selected else 16  # clear of the selection ring
    lx, ly, anchor = {
        "below": (x, y + gap + 12, "middle"),
        "above": (x, y - gap - 4, "middle"),
        "left": (x - gap, y + 4, "end"),
        "right": (x + gap, y + 4, "start"),
    }[side]
    weight = "700" if selected else "normal"
    body.append(_text(lx, ly, clip(s.id, 22), size=11, anchor=anchor, weight=weight))
    body.append("</g>")
    return body


def priority_matrix_svg(
    ranking: Ranking,
    *,
    selected: Collection[str] = (),
    chart_id: str = "priority-matrix",
    standalone: bool = False,
) -> str:
    """The matrix with every candidate placed by impact (x) and feasibility (y)."""
    feasible_at = ranking.rules.feasible_at
    body: list[str] = [_text(8, 22, "Priority matrix: impact × feasibility", size=15, weight="700")]
    body += _quadrants(feasible_at)
    body += _axes(feasible_at)
    positions = _positions(ranking)
    for s in ranking.ranked:
        x, y, side = positions[s.id]
        body += _marker(s, x, y, side, s.id in selected)
    legend_y = TOP + PLOT_H + 68
    body.append(
        _text(
            8,
            legend_y,
            "Ranked candidates (number on the marker = rank; a second "
            "ring marks a selected candidate)",
            size=11,
            fill="#4b5563",
        )
    )
    for i, s in enumerate(ranking.ranked, start=1):
        body.append(
            _text(
                8,
                legend_y + i * ROW_H,
                clip(_summary(s, s.id in selected), 118),
                size=12,
                weight="700" if s.id in selected else "normal",
            )
        )
    height = legend_y + len(ranking.ranked) * ROW_H + 14
    title = "Priority matrix: impact × feasibility"
    desc = "; ".join(_summary(s, s.id in selected) for s in ranking.ranked)
    size = f"width='{WIDTH}' height='{_n(height)}'" if standalone else "width='100%'"
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' "
        f"viewBox='0 0 {WIDTH} {_n(height)}' {size} {FONT} font-size='12' "
        f"aria-labelledby='{_e(chart_id)}-title {_e(chart_id)}-desc'>"
        f"<title id='{_e(chart_id)}-title'>{_e(title)}</title>"
        f"<desc id='{_e(chart_id)}-desc'>{_e(desc)}</desc>"
        f"<rect x='0' y='0' width='{WIDTH}' height='{_n(height)}' fill='#ffffff'/>"
    )
    svg = head + "".join(body) + "</svg>"
    return "<?xml version='1.0' encoding='UTF-8'?>\n" + svg + "\n" if standalone else svg
