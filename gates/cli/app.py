"""The ``stagegate`` command: one Typer app; the library never needs it.

Exit codes (documented in the README): 0 success / promoted / admitted / intact;
1 blocked / not admitted / integrity violation found; 2 error (bad input, unreachable
service). User errors print one message, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gates.cli import (
    audit,
    explore_cmds,
    ledger_cmds,
    recheck_cmds,
    roadmap_cmds,
    scale_cmds,
    serve_cmds,
    stack_cmds,
    workspace_cmds,
)
from gates.cli.context import CliState, quiet_library_logs
from gates.cli.report_cmds import register_commands as register_report_commands
from gates.errors import StagegateError

app = typer.Typer(
    name="stagegate",
    help="Enforced, auditable stage gates for AI use cases: Explore → PoC → Pilot → Production → Scale.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace folder (default: $STAGEGATE_WORKSPACE or the nearest folder with stagegate.toml).",
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(workspace=workspace)


ledger_cmds.register_commands(app)
workspace_cmds.register_commands(app)
app.add_typer(audit.app, name="audit")
register_report_commands(app, audit.app)
recheck_cmds.register_commands(app)
explore_cmds.register_commands(app)
roadmap_cmds.register_commands(app)
scale_cmds.register_commands(app)
serve_cmds.register_commands(app)
stack_cmds.register_commands(app)


def main() -> None:
    quiet_library_logs()
    try:
        # Outside standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except StagegateError as e:
        from gates.cli.render import err_console

        err_console().print(
            f"[bold red]error:[/] {e.diagnostics()}", highlight=False, soft_wrap=True
        )
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(e, click.exceptions.Exit):
            sys.exit(e.exit_code)
        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(2)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else 0)
