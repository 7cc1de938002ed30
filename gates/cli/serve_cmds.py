"""`stagegate serve`: run the promotion and nightly deployments against a Prefect server.

Runs in the foreground until interrupted; the nightly schedule lives on the server, and
the flow runs it creates execute here. Needs ``PREFECT_API_URL`` (exit 2 without it):
Prefect's ephemeral API would vanish with this process, and the schedule with it.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gates.cli.context import state_of, users_choice


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""

    @app.command()
    def serve(
        ctx: typer.Context,
        limit: Annotated[
            int | None,
            typer.Option(min=1, help="Most flow runs at once (default: Prefect's runner limit)."),
        ] = None,
    ) -> None:
        """Serve stagegate-promote and stagegate-nightly (cron and time zone from the schedule settings) until Ctrl-C."""
        from gates.extras import GATE, require

        require(GATE, "stagegate serve")
        from flows.deployments import NIGHTLY, PROMOTE, require_prefect_api, serve_deployments
        from gates.terminal import console
        from gates.workspace.loader import load_workspace

        # ``main()`` quiets Prefect to warnings for terminal commands. A server's flow runs
        # log to the Prefect API and UI, where operators need Prefect's own default (INFO)
        # unless they chose otherwise.
        if users_choice("PREFECT_LOGGING_LEVEL") is None:
            os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
        api = require_prefect_api()
        workspace = load_workspace(state_of(ctx).workspace)
        schedule = workspace.settings.schedule
        console().print(
            f"serving {PROMOTE.flow_name}/{PROMOTE.name} and {NIGHTLY.flow_name}/{NIGHTLY.name} "
            f"(cron {schedule.cron!r}, {schedule.timezone}) for {workspace.root} on {api}",
            highlight=False,
        )
        serve_deployments(workspace.root, limit=limit)
