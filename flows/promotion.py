"""One door for callers that promote (the CLI, the demo): three routes to the same gate.

- ``deployment``: a run of the ``stagegate-promote`` deployment, executed by the gate
  service (``stagegate serve`` or a worker), which holds the gate key; the caller only
  reads the ledger (``flows.submit``). The default when a Prefect API is configured.
- ``local-flow``: the gate flow in this process, against the configured Prefect API or,
  when none is, a temporary server started for the process (``flows.prefect_api``);
  this process signs, so it needs the gate key.
- ``in-process``: the library's ``promote``, no Prefect at all.

Prefect loads only when a flow route is taken, so ``in-process`` runs and the library
never pay for it. Every route answers with a ``PromotionReport``
(``flows.promotion_report``, which ``flows.submit`` shares without importing this module).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from flows.promotion_report import PromotionReport
from gates.engine.actions import promote
from gates.ledger.entry import Entry
from gates.stages import Stage
from gates.workspace.session import Session

if TYPE_CHECKING:
    from flows.submit import SubmittedRun

Route = Literal["deployment", "local-flow", "in-process"]


def prefect_api_configured() -> bool:
    """Whether a Prefect API is configured (``PREFECT_API_URL``, or a Prefect profile)."""
    from flows.prefect_api import configured_api_url

    return configured_api_url() is not None


def choose_route(*, in_process: bool = False, local_flow: bool = False) -> Route:
    """The route the caller asked for, else the deployment when a Prefect API is configured."""
    if in_process:
        return "in-process"
    if local_flow or not prefect_api_configured():
        return "local-flow"
    return "deployment"


def run_promotion(
    session: Session,
    usecase_id: str,
    target: Stage,
    *,
    route: Route,
    now: datetime | None = None,
    on_submitted: Callable[[SubmittedRun], None] | None = None,
    on_waiting: Callable[[str], None] | None = None,
    on_temporary_server: Callable[[], None] | None = None,
) -> PromotionReport:
    """Promote by ``route``; ``on_submitted`` hears of a deployment run as soon as it exists.

    ``on_temporary_server`` hears that the local flow needs a temporary Prefect server
    (no API configured), when it is launched: the run waits a few seconds for it.
    """
    if route == "in-process":
        outcome = promote(session, usecase_id, target, now=now)
        return PromotionReport(outcome.entry, outcome.resumed, outcome.alias)
    if route == "deployment":
        from flows.submit import promote_via_deployment

        return promote_via_deployment(
            session,
            usecase_id,
            target,
            now=now,
            on_submitted=on_submitted,
            on_waiting=on_waiting,
        )
    from flows.prefect_api import flow_api, flow_run_url

    # Launched before the flow's modules load, so the server starts while they do.
    api = flow_api(on_temporary_server)
    from flows.gate_flow import GATE_CHECK_LOG, run_gate

    with api.active(), lines_shown_by_caller(GATE_CHECK_LOG):
        result = run_gate(
            usecase=usecase_id,
            to=target.value,
            workspace=str(session.workspace.root),
            now=now.isoformat() if now else None,
        )
    entry = session.ledger.read_entry(usecase_id, int(result["sequence"]))
    gate = entry.predicate.gate
    flow_run = gate.flow_run if gate else None
    return PromotionReport(
        entry,
        resumed=bool(result.get("resumed")),
        alias=result.get("alias"),
        flow_run=flow_run,
        flow_run_url=flow_run_url(flow_run) if flow_run and api.has_ui else None,
    )


class _Unmarked(logging.Filter):
    """Lets through only log records without ``mark`` set."""

    def __init__(self, mark: str) -> None:
        super().__init__()
        self.mark = mark

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, self.mark, False)


@contextmanager
def lines_shown_by_caller(mark: str) -> Iterator[None]:
    """Keep log records marked ``mark`` off this process's terminal while the block runs.

    The gate flow marks its lines about failing checks (``GATE_CHECK_LOG``): the caller
    prints the gate's table, which lists them. They still reach the Prefect API, whose
    handler sits on the flow-run logger, not among the root logger's console handlers.
    """
    handlers = list(logging.getLogger().handlers)
    quiet = _Unmarked(mark)
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def promote_entry(
    session: Session,
    usecase_id: str,
    target: Stage,
    *,
    now: datetime | None = None,
    via_prefect: bool = True,
    on_temporary_server: Callable[[], None] | None = None,
) -> Entry:
    """Promote through the gate flow in this process (default) or in-process; the entry."""
    route: Route = "local-flow" if via_prefect else "in-process"
    return run_promotion(
        session, usecase_id, target, route=route, now=now, on_temporary_server=on_temporary_server
    ).entry
