"""One door for callers that promote (the CLI, the demo): three routes to the same gate.

- ``deployment``: a run of the ``stagegate-promote`` deployment, executed by the gate
  service (``stagegate serve`` or a worker), which holds the gate key; the caller only
  reads the ledger (``flows.submit``). The default when a Prefect API is configured.
- ``local-flow``: the gate flow in this process (Prefect's ephemeral API when none is
  configured); this process signs, so it needs the gate key.
- ``in-process``: the library's ``promote``, no Prefect at all.

Prefect loads only when a flow route is taken, so ``in-process`` runs and the library
never pay for it. Every route answers with a ``PromotionReport``
(``flows.promotion_report``, which ``flows.submit`` shares without importing this module).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


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
) -> PromotionReport:
    """Promote by ``route``; ``on_submitted`` hears of a deployment run as soon as it exists."""
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
    from flows.gate_flow import gate_flow

    result = asyncio.run(
        gate_flow(
            usecase=usecase_id,
            to=target.value,
            workspace=str(session.workspace.root),
            now=now.isoformat() if now else None,
        )
    )
    entry = session.ledger.read_entry(usecase_id, int(result["sequence"]))
    gate = entry.predicate.gate
    return PromotionReport(
        entry,
        resumed=bool(result.get("resumed")),
        alias=result.get("alias"),
        flow_run=gate.flow_run if gate else None,
    )


def promote_entry(
    session: Session,
    usecase_id: str,
    target: Stage,
    *,
    now: datetime | None = None,
    via_prefect: bool = True,
) -> Entry:
    """Promote through the gate flow in this process (default) or in-process; the entry."""
    route: Route = "local-flow" if via_prefect else "in-process"
    return run_promotion(session, usecase_id, target, route=route, now=now).entry
