"""The read-only commands in their plainest forms, run without building the Typer app.

``status``, ``audit verify`` and ``audit log`` are run most (by people, and by scripts
that poll), and importing Typer and turning a command's signature into click parameters
is a fair share of their start-up. When the command line is one of these forms, token
for token, the command runs straight away:

    [--workspace DIR | -w DIR] status [USECASE] [--json]
    [--workspace DIR | -w DIR] audit verify [USECASE] [--json]
    [--workspace DIR | -w DIR] audit log USECASE [--json]

(``USECASE`` and ``DIR`` are non-empty and do not start with ``-``; ``--json`` may come
before or after ``USECASE``.) Anything else, ``--help``, any other option,
``--workspace=DIR``, a typo, goes to the Typer app, which runs these forms the same way
(both call the functions below) and gives the usual help and errors for the rest.

A quick command runs with pydantic's plugins turned off (``without_pydantic_plugins``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gates.cli.context import CliState

#: Runs a command for the chosen workspace and gives its exit code.
QuickCommand = Callable[[], int]


def quick_command(argv: Sequence[str]) -> QuickCommand | None:
    """The command ``argv`` (without the program name) asks for, if it is a quick form."""
    args = list(argv)
    workspace: Path | None = None
    if args[:1] in (["-w"], ["--workspace"]):
        if len(args) < 2 or not _plain(args[1]):
            return None
        workspace, args = Path(args[1]), args[2:]
    for words, usecase_required, run in _FORMS:
        if args[: len(words)] != list(words):
            continue
        operands = _operands(args[len(words) :])
        if operands is None:
            return None
        values, json_out = operands
        if len(values) > 1 or (usecase_required and not values):
            return None  # Typer says what is missing or extra
        state = CliState(workspace=workspace)
        usecase = values[0] if values else None
        return lambda: _run_without_plugins(run, state, usecase, json_out)
    return None


#: pydantic's switch for its plugins (``pydantic.plugin._loader``): ``__all__`` turns all off.
PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"


@contextmanager
def without_pydantic_plugins() -> Iterator[None]:
    """Build and use the ledger's and workspace's models without pydantic plugins.

    The first model pydantic builds in a process makes it read the entry points of every
    installed distribution, looking for plugins (observers of validation, such as tracing
    tools): a fair share of a quick command's start-up, for commands whose models are
    internal. So it is turned off for the command only, through pydantic's own switch,
    and the environment is as it was afterwards (the commands start no processes that
    could inherit it). A user who sets ``PYDANTIC_DISABLE_PLUGINS`` themselves, even to
    an empty value (plugins on), keeps their choice.
    """
    if PLUGINS_ENV in os.environ:
        yield
        return
    os.environ[PLUGINS_ENV] = "__all__"
    try:
        yield
    finally:
        os.environ.pop(PLUGINS_ENV, None)


def _run_without_plugins(
    run: Callable[[CliState, str | None, bool], int],
    state: CliState,
    usecase: str | None,
    json_out: bool,
) -> int:
    with without_pydantic_plugins():
        return run(state, usecase, json_out)


def _plain(token: str) -> bool:
    """A value click would take as it is: not an option, not ``--``, not empty."""
    return bool(token) and not token.startswith("-")


def _operands(tokens: Sequence[str]) -> tuple[list[str], bool] | None:
    """The positional values and whether ``--json`` was given, or None for anything else."""
    values = [t for t in tokens if t != "--json"]
    if len(tokens) - len(values) > 1 or not all(_plain(v) for v in values):
        return None
    return values, len(values) < len(tokens)


def _status(state: CliState, usecase: str | None, json_out: bool) -> int:
    from gates.cli.status_view import show_status

    show_status(state, usecase, None, json_out)
    return 0


def _verify(state: CliState, usecase: str | None, json_out: bool) -> int:
    from gates.cli.audit_views import verify_store

    return verify_store(state, usecase, None, [], None, None, False, json_out)


def _log(state: CliState, usecase: str | None, json_out: bool) -> int:
    from gates.cli.audit_views import show_log

    assert usecase is not None  # the form requires it
    return show_log(state, usecase, json_out)


#: The quick forms: their command words, whether USECASE is required, what runs them.
_FORMS: tuple[tuple[tuple[str, ...], bool, Callable[[CliState, str | None, bool], int]], ...] = (
    (("status",), False, _status),
    (("audit", "verify"), False, _verify),
    (("audit", "log"), True, _log),
)
