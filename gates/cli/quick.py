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

A quick command loads the modules it needs up front with the garbage collector paused
(``load_with_collector_paused``), and runs with pydantic's plugins turned off
(``without_pydantic_plugins``).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gates.cli.context import CliState
from gates.report.gc_pause import collector_paused

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
    for form in _FORMS:
        if args[: len(form.words)] != list(form.words):
            continue
        operands = _operands(args[len(form.words) :])
        if operands is None:
            return None
        values, json_out = operands
        if len(values) > 1 or (form.usecase_required and not values):
            return None  # Typer says what is missing or extra
        state = CliState(workspace=workspace)
        usecase = values[0] if values else None
        return lambda: _run_quick(form, state, usecase, json_out)
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


def load_with_collector_paused(modules: Iterable[str]) -> None:
    """Import ``modules`` with the garbage collector paused, then set what they built aside.

    Loading a command's modules (pydantic building its models, Rich, PyYAML) allocates
    tens of thousands of objects that live as long as the process, and the collector
    scanned them again and again while they loaded: about a tenth of a quick command's
    start-up. They load with it paused (``gates.report.gc_pause``), then are frozen
    (``gc.freeze``: left out of every later collection), and the command runs with the
    collector on as usual, so a long ``audit verify`` is collected as before.
    """
    with collector_paused():
        try:
            for name in modules:
                # Not importlib.import_module: ``python -X importtime`` lists only the
                # imports made through ``__import__``.
                __import__(name)
        finally:
            gc.freeze()  # before the collector is back on, which would scan them once more


def _run_quick(form: _Form, state: CliState, usecase: str | None, json_out: bool) -> int:
    with without_pydantic_plugins():
        load_with_collector_paused(form.modules + (() if json_out else TABLE_MODULES))
        return form.run(state, usecase, json_out)


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


@dataclass(frozen=True)
class _Form:
    """A quick form: its command words, whether USECASE is required, what runs it, and
    the modules it loads (on any run; a module it loads only sometimes stays lazy)."""

    words: tuple[str, ...]
    usecase_required: bool
    run: Callable[[CliState, str | None, bool], int]
    modules: tuple[str, ...]


#: What a command printing a table rather than JSON loads besides.
TABLE_MODULES = ("rich.console", "rich.table")

_FORMS = (
    _Form(
        ("status",),
        False,
        _status,
        ("gates.cli.status_view", "gates.workspace.session", "gates.engine.status"),
    ),
    _Form(
        ("audit", "verify"),
        False,
        _verify,
        ("gates.cli.audit_views", "gates.workspace.session", "gates.ledger.verify"),
    ),
    _Form(
        ("audit", "log"),
        True,
        _log,
        ("gates.cli.audit_views", "gates.workspace.session", "gates.ledger.describe"),
    ),
)
