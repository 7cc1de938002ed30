"""The ``stagegate`` command: one Typer app; the library never needs it.

Exit codes (documented in the README): 0 success / promoted / admitted / intact;
1 blocked / not admitted / integrity violation found; 2 error (bad input, unreachable
service). User errors print one message, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from gates.cli.context import CliState, quiet_library_logs
from gates.cli.lazy import Registrar, lazy_group
from gates.errors import StagegateError


def _module(name: str) -> Registrar:
    """The ``register_commands`` of ``gates.cli.<name>``, imported when first called."""

    def register(app: typer.Typer) -> None:
        importlib.import_module(f"gates.cli.{name}").register_commands(app)

    register.__qualname__ = f"gates.cli.{name}.register_commands"
    return register


def _audit(app: typer.Typer) -> None:
    from gates.cli import audit, report_cmds

    report_cmds.register_commands(typer.Typer(), audit.app)  # its ``audit report``; ``ui`` below
    app.add_typer(audit.app, name="audit")


def _ui(app: typer.Typer) -> None:
    from gates.cli import report_cmds

    report_cmds.register_commands(app, typer.Typer())  # its ``ui``; ``audit report`` above


_LEDGER = _module("ledger_cmds")
_WORKSPACE = _module("workspace_cmds")

#: Every command, in the order ``--help`` lists them, and what registers it. A command's
#: module is imported only when that command (or ``--help``) runs: ``status`` and the
#: auditor commands start without the others' imports (tests/cli/test_cold_start.py).
COMMANDS: dict[str, Registrar] = {
    **dict.fromkeys(
        ("register", "promote", "next", "approve", "amend", "decide", "admit", "status"), _LEDGER
    ),
    **dict.fromkeys(("validate", "init", "demo"), _WORKSPACE),
    "ui": _ui,
    "recheck": _module("recheck_cmds"),
    "roadmap": _module("roadmap_cmds"),
    "serve": _module("serve_cmds"),
    "keys": _WORKSPACE,
    "audit": _audit,
    "report": _module("monthly_cmds"),
    "explore": _module("explore_cmds"),
    "scale": _module("scale_cmds"),
    "stack": _module("stack_cmds"),
}


def _new_app() -> typer.Typer:
    """An app with the root's settings, on which a command's module registers it."""
    return typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode="rich"
    )


app = typer.Typer(
    name="stagegate",
    help="Enforced, auditable stage gates for AI use cases: Explore → PoC → Pilot → Production → Scale.",
    cls=lazy_group(COMMANDS, _new_app),
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
