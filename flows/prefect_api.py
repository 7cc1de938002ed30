"""The Prefect API the flows of this process talk to: the configured one, else a temporary server.

With ``PREFECT_API_URL`` (or a Prefect profile naming an API) nothing is started. Without
one, Prefect would start a temporary server when the first flow runs, and pay for
loading its server code first; here the same server (``gates.stack.temporary_prefect``)
is launched as soon as a caller knows a flow will run, before the flow modules load, and
every flow of the process runs against it inside ``FlowApi.active()``. It is stopped
when the process exits, after Prefect's log and event workers have drained into it, as
Prefect stops its own.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gates.stack.temporary_prefect import TemporaryPrefectServer

#: What a caller may tell its user when the temporary server is launched.
TEMPORARY_SERVER_NOTE = (
    "no Prefect API configured: starting a temporary Prefect server for this run "
    "(a few seconds; it stops when the command ends). Faster: --in-process (the same "
    "gate without Prefect), or a server that keeps running: `stagegate stack up` and "
    '`eval "$(stagegate stack env)"` (or PREFECT_API_URL)'
)

_lock = threading.Lock()
_temporary: TemporaryPrefectServer | None = None


def configured_api_url() -> str | None:
    """The Prefect API configured for this process (``PREFECT_API_URL``, a profile), if any."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


@dataclass(frozen=True)
class FlowApi:
    """Where this process's flows run: a configured API, or the temporary server."""

    configured: str | None
    temporary: TemporaryPrefectServer | None

    @property
    def has_ui(self) -> bool:
        """Whether flow runs can be linked to: a configured API (the temporary server has no UI)."""
        return self.configured is not None

    @contextmanager
    def active(self) -> Iterator[str]:
        """Flows run inside this block use this API; waits for the temporary server to answer."""
        if self.temporary is None:
            yield self.configured or ""
            return
        from prefect.settings import PREFECT_API_URL, temporary_settings

        url = self.temporary.wait_ready()
        with temporary_settings({PREFECT_API_URL: url}):
            yield url


def flow_api(on_temporary_server: Callable[[], None] | None = None) -> FlowApi:
    """The configured API, else this process's temporary server, launched now (not waited for).

    ``on_temporary_server`` is called when the server is launched, once per process.
    """
    configured = configured_api_url()
    if configured is not None:
        return FlowApi(configured, None)
    return FlowApi(None, _temporary_server(on_temporary_server))


def _temporary_server(on_launch: Callable[[], None] | None) -> TemporaryPrefectServer:
    global _temporary
    with _lock:
        if _temporary is not None and _temporary.running:
            return _temporary
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        server = TemporaryPrefectServer(
            settings.to_environment_variables(exclude_unset=True),
            startup_timeout=float(settings.server.ephemeral.startup_timeout_seconds),
        )
        if on_launch is not None:
            on_launch()
        server.launch()
        # Plain ``atexit`` hooks run after the ``threading`` ones, where Prefect's log and
        # event workers drain: they still reach the server.
        atexit.register(server.stop)
        _temporary = server
        return server


def flow_run_url(run_id: str) -> str | None:
    """The flow run's page in the Prefect UI (``PREFECT_UI_URL``, else from the API URL)."""
    from prefect.utilities.urls import url_for

    return url_for("flow-run", obj_id=run_id)
