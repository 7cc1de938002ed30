"""The ``stagegate`` command: one Typer app; the library never needs it.

``gates.cli.main`` runs it (and turns errors into messages and exit codes).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from gates.cli.context import CliState
from gates.cli.lazy import Registrar, lazy_group


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
