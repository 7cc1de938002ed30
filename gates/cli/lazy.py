"""A command group that knows every command's name but builds a command only when asked.

``stagegate status`` should not pay for importing the modules of thirty other commands
(and what they import) nor for Typer turning each of their signatures into click
parameters. The root group therefore holds a table, command name → the function that
registers it on a ``typer.Typer``; running a command registers and builds only its own
module's commands, while ``--help``, completion and "did you mean" still see every name,
in the table's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from functools import cache
from typing import TYPE_CHECKING, Any

import typer
import typer.main
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer import _click

#: Registers some commands (at least the ones the table names it for) on the app given.
Registrar = Callable[[typer.Typer], None]


@cache
def _built(register: Registrar, new_app: Callable[[], typer.Typer]) -> Mapping[str, _click.Command]:
    holder = new_app()
    register(holder)
    return typer.main.get_group(holder).commands


class LazyCommands(MutableMapping[str, "_click.Command"]):
    """``name → command`` for a click group, each command built on first lookup."""

    def __init__(self, table: Mapping[str, Registrar], new_app: Callable[[], typer.Typer]) -> None:
        self._table = dict(table)
        self._new_app = new_app
        self._added: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name in self._added:
            return self._added[name]
        register = self._table[name]
        commands = _built(register, self._new_app)
        if name not in commands:
            raise RuntimeError(
                f"the command table names {register!r} for {name!r}, "
                f"which registers only {sorted(commands)}"
            )
        return commands[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._table
        yield from (name for name in self._added if name not in self._table)

    def __len__(self) -> int:
        return len(self._table.keys() | self._added.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._added

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        self._table.pop(name, None)
        self._added.pop(name, None)


def lazy_group(
    table: Mapping[str, Registrar], new_app: Callable[[], typer.Typer]
) -> type[TyperGroup]:
    """A ``TyperGroup`` class (for ``typer.Typer(cls=...)``) whose commands are ``table``'s.

    ``new_app`` makes the app a command is registered on: it must carry the root app's
    settings that shape a built command (help markup, exception display), so that a
    command is the same whether it is built alone or with all the others.
    """

    class LazyGroup(TyperGroup):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            commands = LazyCommands(table, new_app)
            for name, command in self.commands.items():  # any registered eagerly
                commands[name] = command
            self.commands = commands

        def list_commands(self, ctx: _click.Context) -> list[str]:
            return list(self.commands)  # names only: listing builds nothing

    return LazyGroup
