"""``stagegate audit report`` (a static HTML site) and ``stagegate ui`` (the same pages, live).

Both are read-only and import none of Prefect, MLflow or Great Expectations; the report
package, FastAPI and uvicorn load only when one of these commands runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gates.cli.context import reading_session, session_of
from gates.terminal import console, err_console, print_json

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register_commands(app: typer.Typer, audit_app: typer.Typer) -> None:
    audit_app.command(name="report")(report)
    app.command(name="ui")(ui)


def report(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the HTML site into (created).")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Write the audit report as a static HTML site (open index.html from disk). Exit 0 intact, 1 violations."""
    from datetime import UTC, datetime

    from gates.report.site import write_site

    session = reading_session(ctx)
    summary = write_site(session, out, datetime.now(UTC))
    session.save_verified_heads()
    if json_out:
        print_json(
            {
                "out": str(summary.out_dir),
                "pages": summary.pages,
                "useCases": summary.usecases,
                "entries": summary.entries,
                "intact": summary.intact,
                "violations": summary.violations,
            }
        )
    else:
        verdict = (
            "[green]ledger intact[/]"
            if summary.intact
            else f"[bold red]{summary.violations} violation(s)[/] (shown in the report)"
        )
        console().print(
            f"wrote {summary.pages} pages ({summary.usecases} use cases, {summary.entries} entries) "
            f"to {summary.out_dir / 'index.html'}; {verdict}",
            soft_wrap=True,
        )
    raise typer.Exit(0 if summary.intact else 1)


def ui(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback by default (the UI has no login).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8765,
) -> None:
    """Serve the audit report live and read-only (GET only) until interrupted."""
    from gates.ui.app import serve, ui_sessions

    root = session_of(ctx).workspace.root  # fail now, with one clear message, if no workspace
    if host not in LOOPBACK:
        err_console().print(
            f"[yellow]warning:[/] binding {host}: the UI has no authentication; "
            "anyone who can reach this address can read the ledger",
            soft_wrap=True,
        )
    console().print(f"stagegate UI on http://{host}:{port}/ (Ctrl+C to stop)")
    serve(ui_sessions(root), host=host, port=port)
