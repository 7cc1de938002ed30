"""State shared by CLI commands: the chosen workspace, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the session (and its ledger, pydantic models, keys) loads on first use
    from gates.engine.session import Session


@dataclass
class CliState:
    workspace: Path | None = None
    _session: Session | None = field(default=None, repr=False)

    def session(self) -> Session:
        if self._session is None:
            from gates.engine.session import Session

            self._session = Session.open(self.workspace)
        return self._session


def state_of(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def session_of(ctx: typer.Context) -> Session:
    return state_of(ctx).session()
