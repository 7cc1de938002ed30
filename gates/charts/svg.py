"""The few pieces every inline-SVG chart shares: escaping, numbers, text, the document shell.

Charts are drawn as text by our own code (no script, no external fetch), so each one
needs text escaped the same way and the same accessible ``<svg>`` element with a title
and a description.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 760
FONT = "font-family='system-ui, -apple-system, Segoe UI, Roboto, sans-serif'"
INK = "#111827"
MUTED = "#4b5563"
GRID = "#e5e7eb"


def esc(text: object) -> str:
    """Text or attribute value, escaped (quotes included)."""
    return str(escape(str(text)))


def num(value: float) -> str:
    """A coordinate with at most one decimal and no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def text(
    x: float,
    y: float,
    content: object,
    *,
    size: int = 12,
    weight: str = "normal",
    anchor: str = "start",
    fill: str = INK,
    extra: str = "",
) -> str:
    """A ``<text>`` element with its content escaped."""
    return (
        f"<text x='{num(x)}' y='{num(y)}' font-size='{size}' font-weight='{weight}' "
        f"text-anchor='{anchor}' fill='{fill}'{extra}>{esc(content)}</text>"
    )


def text_width(content: object, size: float) -> float:
    """A generous estimate of how wide ``content`` is drawn at ``size`` (system sans-serif)."""
    return 0.7 * size * len(str(content))


def fit_text(
    x: float,
    content: object,
    size: float,
    anchor: str = "middle",
    *,
    left: float = 2,
    right: float = WIDTH - 2,
) -> tuple[float, str]:
    """Where to anchor a label so it stays inside ``left``–``right`` instead of being cut off.

    A label that would run past an edge is anchored to that edge's side of ``x``
    (or to the edge itself when even that is not enough).
    """
    width = text_width(content, size)
    start = {"start": x, "middle": x - width / 2, "end": x - width}.get(anchor, x)
    if start + width > right:
        return (min(x, right), "end") if x - width >= left else (right, "end")
    if start < left:
        return (max(x, left), "start") if x + width <= right else (left, "start")
    return x, anchor


def spread(positions: list[float], gap: float) -> list[float]:
    """Positions in the same order, each at least ``gap`` after the one before it.

    Markers of the same day (a blocked gate and the passing one after it) would stack
    into one shape; this sets them side by side, in the order they happened.
    """
    placed: list[float] = []
    for x in positions:
        placed.append(x if not placed or x >= placed[-1] + gap else placed[-1] + gap)
    return placed


def clip(content: str, chars: int) -> str:
    """``content`` cut to ``chars`` characters, an ellipsis marking the cut."""
    return content if len(content) <= chars else content[: chars - 1] + "…"


def svg_document(
    chart_id: str, height: float, title: str, desc: str, body: list[str], *, width: float = WIDTH
) -> Markup:
    """An accessible chart: ``role='img'`` labelled by its title and description."""
    cid = esc(chart_id)
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' "
        f"viewBox='0 0 {num(width)} {num(height)}' width='100%' {FONT} font-size='12' "
        f"aria-labelledby='{cid}-title {cid}-desc'>"
        f"<title id='{cid}-title'>{esc(title)}</title>"
        f"<desc id='{cid}-desc'>{esc(desc)}</desc>"
    )
    return Markup(head + "".join(body) + "</svg>")
