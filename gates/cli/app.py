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
from gates.cli.monthly_cmds import register_commands as register_monthly_commands
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


def _print_version(value: bool) -> None:
    if value:
        from gates._version import __version__

        print(f"stagegate {__version__}")
        raise typer.Exit(0)


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
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    ctx.obj = CliState(workspace=workspace)


ledger_cmds.register_commands(app)
workspace_cmds.register_commands(app)
app.add_typer(audit.app, name="audit")
register_report_commands(app, audit.app)
register_monthly_commands(app)
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
        _print_error(e)
        sys.exit(e.exit_code)
    except ModuleNotFoundError as e:
        # A package of an extra that is not installed, imported where no command asked
        # for the extra first: still one message naming the extra, never a traceback.
        from gates.extras import missing_extra_error

        missing = missing_extra_error(e, "this command")
        if missing is None:
            raise
        _print_error(missing)
        sys.exit(missing.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # usage errors come through here in non-standalone mode
        code = _usage_error_code(e)
        if code is None:
            raise
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)


def _print_error(error: StagegateError) -> None:
    from rich.markup import escape

    from gates.terminal import err_console

    err_console().print(
        f"[bold red]error:[/] {escape(error.diagnostics())}", highlight=False, soft_wrap=True
    )


def _usage_error_code(error: Exception) -> int | None:
    """Show a command-line usage error as click would, and say which exit code it gets.

    Typer raises its vendored click's exceptions (``typer._click``), the ``click``
    package raises its own; both are the same four kinds, matched here by name.
    """
    names = {cls.__name__ for cls in type(error).__mro__}
    if "Exit" in names:
        return int(getattr(error, "exit_code", 0))
    if "Abort" in names:
        return 130
    if "ClickException" in names:
        show = getattr(error, "show", None)
        if callable(show):
            show()
        return 2
    return None
