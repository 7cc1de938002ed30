"""Colours with a meaning across every chart and page."""

from __future__ import annotations

#: Stage colours, dark enough for white text on them.
STAGE_COLOURS = {
    "explore": "#0369a1",
    "poc": "#4338ca",
    "pilot": "#7e22ce",
    "production": "#15803d",
    "scale": "#0f766e",
    "stopped": "#4b5563",
}
