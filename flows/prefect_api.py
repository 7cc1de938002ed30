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
import time
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

#: How long a command waits at most for Prefect to send its flows' events (``events_sent``).
EVENTS_SENT_TIMEOUT_SECONDS = 10.0

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
        """Flows run inside this block use this API; waits for the temporary server to answer.

        On leaving it, waits until the events of those flows are sent (``events_sent``).
        """
        if self.temporary is None:
            yield self.configured or ""
            events_sent()
            return
        from prefect.settings import PREFECT_API_URL, temporary_settings

        url = self.temporary.wait_ready()
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
        events_sent()


def events_sent(timeout: float = EVENTS_SENT_TIMEOUT_SECONDS) -> bool:
    """Wait until Prefect's events worker has sent every event queued so far; whether it has.

    Prefect sends a flow's events (state changes, task runs) from a worker thread, and
    at interpreter exit stops that worker and lets it finish its queue. A worker stopped
    with events still queued prints ``WARNING | EventsWorker - Still processing items``
    on the user's terminal. On a busy machine the worker lags behind the flow, so a
    command that exits as soon as its flow returns showed that line now and then. Once
    the queue is empty, the exit has nothing left to report. Bounded by ``timeout``: a
    worker that fails never empties its queue.
    """
    from prefect.events.worker import EventsWorker

    # Prefect keeps its running services by key; the events worker has no public list.
    running = [
        worker
        for worker in list(getattr(EventsWorker, "_instances", {}).values())
        if isinstance(worker, EventsWorker)
    ]
    waiters = [threading.Thread(target=w.wait_until_empty, daemon=True) for w in running]
    deadline = time.monotonic() + timeout
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(max(0.0, deadline - time.monotonic()))
    return not any(waiter.is_alive() for waiter in waiters)


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
