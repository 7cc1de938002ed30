"""State shared by CLI commands: the chosen workspace, opened lazily."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the session (and its ledger, pydantic models, keys) loads on first use
    import typer

    from gates.workspace.session import Session


#: Defaults for a terminal tool: our own tables tell the story, so Prefect's per-task INFO
#: lines, its telemetry and MLflow's migration chatter are off unless the user says otherwise.
#: ``DO_NOT_TRACK`` is the client side of it: without it Prefect prints a telemetry notice
#: on a new user's first interactive run, and Prefect and MLflow send usage events.
QUIET_DEFAULTS = {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
}


#: What the user had set for each of ``QUIET_DEFAULTS`` before they were applied (None: unset).
_users_choice: dict[str, str | None] = {}


def quiet_library_logs() -> None:
    for key, value in QUIET_DEFAULTS.items():
        _users_choice.setdefault(key, os.environ.get(key))
        os.environ.setdefault(key, value)


def users_choice(key: str) -> str | None:
    """``key`` as the user set it, not as ``quiet_library_logs`` defaulted it (None: unset).

    Command modules load lazily, after the defaults are applied, so they ask here rather
    than read the environment when imported."""
    return _users_choice[key] if key in _users_choice else os.environ.get(key)


@dataclass
class CliState:
    workspace: Path | None = None
    _session: Session | None = field(default=None, repr=False)

    def session(self) -> Session:
        if self._session is None:
            from gates.workspace.session import Session

            self._session = Session.open(self.workspace)
        return self._session

    def reading_session(self) -> Session:
        """The session of a read-only view (``status``, the report) that keeps the chain
        heads it verified in the user's cache (``gates.ledger.verified_heads.HeadsFile``),
        so the next run re-checks only the signatures of entries it has not seen. Call
        ``session.save_verified_heads()`` when done."""
        session = self.session()
        if session.heads_keeper is None and "ledger" not in session.__dict__:
            from gates.ledger.verified_heads import HeadsFile, default_cache_dir

            folder = default_cache_dir()
            if folder is not None:
                session.heads_keeper = HeadsFile(folder)
        return session


def state_of(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def session_of(ctx: typer.Context) -> Session:
    return state_of(ctx).session()


def reading_session(ctx: typer.Context) -> Session:
    """``CliState.reading_session`` of the command's state."""
    return state_of(ctx).reading_session()


def parse_when(value: str | None) -> datetime | None:
    """``--at``: a time as typed (ISO 8601; naive means UTC). Writers accept it only on
    a simulated clock (``gates.clock.Clock.stamp``); read-only views take it as "as of"."""
    if value is None:
        return None
    from gates.clock import parse_time

    return parse_time(value, field_name="--at")
