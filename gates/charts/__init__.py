"""Inline SVG charts: the shell, text, ticks and colours every chart of the product shares."""
