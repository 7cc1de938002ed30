"""The ``stagegate`` entry point: runs a command, turns errors into one message and an exit code.

Exit codes (documented in the README): 0 success / promoted / admitted / intact;
1 blocked / not admitted / integrity violation found; 2 error (bad input, unreachable
service). User errors print one message, never a traceback.

The plainest read-only command lines run without Typer (``gates.cli.quick``); every
other one goes to the Typer app (``gates.cli.app``).
"""

from __future__ import annotations

import sys

from gates.cli.context import quiet_library_logs
from gates.cli.quick import quick_command
from gates.errors import StagegateError


def main() -> None:
    quiet_library_logs()
    try:
        code = _run(sys.argv[1:])
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


def _run(argv: list[str]) -> object:
    """The exit code of the command (or what the Typer app returned, None for 0)."""
    quick = quick_command(argv)
    if quick is not None:
        return quick()
    from gates.cli.app import app

    # Outside standalone mode click returns the code of typer.Exit instead of exiting.
    return app(standalone_mode=False)


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
