"""`stagegate stack` commands (placeholder: registers nothing yet)."""

from __future__ import annotations

import typer


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""
