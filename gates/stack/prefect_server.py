"""Start and stop a Prefect server on 127.0.0.1 with its home (database, settings) in one folder.

``PREFECT_HOME`` is the data folder, so the server's SQLite database and profiles never
mix with the user's own ``~/.prefect``; the working directory is that folder too, so a
``prefect.toml`` or ``.env`` wherever the command was typed does not reconfigure it.
The task-run recorder writes in batches (``default_recorder_batching``, which the flow
modules also apply to the servers their process starts; flows/README.md, "Back-to-back
runs"): on SQLite this keeps a gate started right after another from waiting ~2 s.

Prefect itself is imported only to ask a server whether it is healthy, so that
starting one does not load Prefect into the command first.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING

from gates.stack.process import LOOPBACK, LoopbackServer

if TYPE_CHECKING:
    from prefect.settings import Settings

__all__ = [
    "RECORDER_BATCHING",
    "PrefectServer",
    "default_recorder_batching",
    "prefect_api_healthy",
]

#: Server settings for the task-run recorder on a SQLite-backed Prefect server (see
#: ``default_recorder_batching`` and flows/README.md, "Back-to-back runs"). The flush
#: interval must be a whole number: Prefect 3.9 truncates it with ``int()``, so a
#: fraction of a second becomes 0 and the recorder's flush loop spins.
RECORDER_BATCHING = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "10",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
}

#: Client settings of the user's own (another server, Cloud, a profile) that must not
#: leak into the server process.
_SCRUBBED_ENV = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH")


def default_recorder_batching(
    environ: MutableMapping[str, str], settings: Settings | None = None
) -> dict[str, str]:
    """Default the task-run recorder to batched writes for a server started with ``environ``.

    Prefect's recorder writes each task-run event in its own transaction. A gate makes
    ~33 of them, so on SQLite the server keeps writing for a few hundred ms after the flow
    returns, and the next run's ``POST /flow_runs/`` (a read, then an insert, in one
    deferred transaction) is refused at once with SQLITE_BUSY: SQLite never waits out
    ``busy_timeout`` to upgrade a read transaction to a write. The server answers 503 and
    the client retries after its fixed 2 s back-off. Batches of up to 10 events, flushed
    at least every second, leave too few writes to collide with, and task runs still reach
    the API within a second.

    These are server settings: a server started elsewhere (``prefect server start``,
    Cloud) never sees them, and a client ignores them. Nothing is changed when either
    setting is in ``environ`` already, or configured in ``settings``: the Prefect
    settings the server reads besides its environment (a profile, ``prefect.toml``),
    which for the ephemeral server and the test harness are this process's. None for a
    server that reads only its environment, as ``PrefectServer`` does. Returns what was
    set.
    """
    if settings is not None:
        configured = settings.server.services.task_run_recorder
        if {"batch_size", "flush_interval"} & configured.model_fields_set:
            return {}
    if any(name in environ for name in RECORDER_BATCHING):
        return {}
    environ.update(RECORDER_BATCHING)
    return dict(RECORDER_BATCHING)


def prefect_api_healthy(
    api_url: str,
    *,
    timeout: float,
    api_key: str | None = None,
    auth_string: str | None = None,
) -> bool:
    """Whether the Prefect API at ``api_url`` answers its health check within ``timeout`` s.

    Asked once through Prefect's own client (``api_healthcheck``). Its retries are
    switched off: new connections tried again with back-off, and up to five more tries
    with growing pauses after a timeout, would stretch a probe of a server that is not
    up from ``timeout`` to seconds or minutes.
    """
    import httpx
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    # A transport of our own: Prefect gives only its default one connection retries.
    options = {"timeout": timeout, "transport": httpx.HTTPTransport()}
    with (
        temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}),
        SyncPrefectClient(
            api_url, api_key=api_key, auth_string=auth_string, httpx_settings=options
        ) as client,
    ):
        return client.api_healthcheck() is None


class PrefectServer(LoopbackServer):
    """``prefect server start`` on 127.0.0.1:``port``, ``PREFECT_HOME`` = ``data_dir``.

    ``data_dir`` holds the server's ``prefect.db`` and the log ``prefect.log``; it is
    kept on stop, so schedules and run history survive a restart.
    """

    display_name = "Prefect server"
    log_name = "prefect.log"

    @property
    def api_url(self) -> str:
        """What clients set as ``PREFECT_API_URL``."""
        return f"http://{LOOPBACK}:{self.port}/api"

    @property
    def url(self) -> str:
        return self.api_url

    def healthy(self) -> bool:
        return prefect_api_healthy(self.api_url, timeout=2.0)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
        ]

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in base.items() if k not in _SCRUBBED_ENV}
        env["PREFECT_HOME"] = str(self.data_dir)
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        # Its own home and working folder: the environment is all it reads.
        default_recorder_batching(env)
        return env
