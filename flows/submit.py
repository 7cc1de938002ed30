"""Promote through the ``stagegate-promote`` deployment: the gate service signs, not the caller.

``stagegate promote`` takes this route when a Prefect API is configured. It creates a
run of the deployment that ``stagegate serve`` (or a worker) executes, says where to
watch it as soon as it exists, waits for it to end, then reads the gate entry it wrote
from the ledger, found by the flow-run id the entry records (``gate.flowRun``). The
caller needs read access to the store and the public keys; it never loads the gate key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flows.deployments import PROMOTE
from flows.promotion_report import PromotionReport
from gates.engine.followups import alias_text, recorded_alias, recorded_promotion
from gates.errors import StagegateError
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.stages import Stage
from gates.workspace.session import Session

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

#: The deployment a promotion runs, as Prefect names it (``flow/deployment``).
PROMOTE_DEPLOYMENT = f"{PROMOTE.flow_name}/{PROMOTE.name}"
#: How often the run's state is read while waiting for it.
POLL_SECONDS = 1.0
#: A run still not started after this long probably has no one serving it: say so once.
NOT_STARTED_NOTICE_SECONDS = 20.0


@dataclass(frozen=True)
class SubmittedRun:
    """A flow run of the promotion deployment, as the caller is told about it."""

    id: str
    name: str
    #: Where to watch it in the Prefect UI (``PREFECT_UI_URL``, else from the API URL).
    url: str | None


def promote_via_deployment(
    session: Session,
    usecase_id: str,
    target: Stage,
    *,
    now: datetime | None = None,
    on_submitted: Callable[[SubmittedRun], None] | None = None,
    on_waiting: Callable[[str], None] | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> PromotionReport:
    """Run the promotion deployment for ``usecase_id`` → ``target``, wait, read its entry.

    A run that fails or crashes is a StagegateError carrying its state message (exit 2);
    so is a missing deployment, or an API that does not answer.
    """
    from prefect.client.orchestration import get_client

    parameters: dict[str, Any] = {"usecase": usecase_id, "to": target.value}
    if now is not None:
        parameters["now"] = now.isoformat()
    api = _api_url()
    try:
        with get_client(sync_client=True) as client:
            deployment_id = _promotion_deployment(client, api)
            created = client.create_flow_run_from_deployment(
                deployment_id,
                parameters=parameters,
                # The flow names its runs so once they start; named now, the caller's
                # first message already says which gate it is.
                name=f"gate-{usecase_id}-to-{target.value}",
            )
            run = SubmittedRun(str(created.id), created.name, _ui_url(created.id))
            if on_submitted is not None:
                on_submitted(run)
            final = _wait(client, created.id, run, on_waiting, poll_seconds)
    except StagegateError:
        raise
    except Exception as e:  # httpx and Prefect client errors: the API did not serve us
        raise StagegateError(
            f"the Prefect API at {api} failed while running {PROMOTE_DEPLOYMENT}: "
            f"{type(e).__name__}: {e}",
            hint="check PREFECT_API_URL and that the Prefect server is running",
        ) from e
    if not final.is_completed():
        raise StagegateError(
            f"{usecase_id}: the promotion run {run.name} ended {final.name}: "
            f"{final.message or 'no message'}",
            hint=f"see the run's logs: {run.url or run.id}",
        )
    return _report(session, usecase_id, target, run)


def _api_url() -> str:
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url or "")


def _ui_url(run_id: Any) -> str | None:
    from flows.prefect_api import flow_run_url

    return flow_run_url(str(run_id))


def _promotion_deployment(client: SyncPrefectClient, api: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(PROMOTE_DEPLOYMENT).id
    except ObjectNotFound:
        raise StagegateError(
            f"no deployment {PROMOTE_DEPLOYMENT} on the Prefect API at {api}: "
            "nothing there runs promotions",
            hint="start the gate service where the gate key lives: `stagegate serve` "
            "against this Prefect API; or promote here with --local-flow (needs the gate key)",
        ) from None


def _wait(
    client: SyncPrefectClient,
    run_id: Any,
    run: SubmittedRun,
    on_waiting: Callable[[str], None] | None,
    poll_seconds: float,
) -> Any:
    """Poll the run until it reaches a final state; return that state."""
    started = time.monotonic()
    noticed = False
    while True:
        state = client.read_flow_run(run_id).state
        if state is not None and state.is_final():
            return state
        waited = time.monotonic() - started
        not_started = state is None or state.is_scheduled() or state.is_pending()
        if not_started and not noticed and waited > NOT_STARTED_NOTICE_SECONDS:
            noticed = True
            if on_waiting is not None:
                on_waiting(
                    f"{run.name} has not started after {waited:.0f} s: is `stagegate serve` "
                    "(or a worker for the stagegate pool) running?"
                )
        time.sleep(poll_seconds)


def _report(session: Session, usecase_id: str, target: Stage, run: SubmittedRun) -> PromotionReport:
    """The gate entry the run wrote, or the recorded pass it finished."""
    state = session.ledger.state(usecase_id)
    entry = _entry_of_run(state, run.id)
    if entry is not None:
        return PromotionReport(entry, flow_run=run.id, flow_run_url=run.url)
    recorded = recorded_promotion(state, target)
    if recorded is not None:
        due = recorded_alias(session, state, recorded)
        alias = alias_text(*due) if due else None
        return PromotionReport(
            recorded, resumed=True, alias=alias, flow_run=run.id, flow_run_url=run.url
        )
    raise StagegateError(
        f"{usecase_id}: the promotion run {run.name} completed, but no gate entry of it is in "
        f"the ledger at {session.workspace.store_uri}",
        hint="this workspace must read the store the gate service writes ([store] uri)",
    )


def _entry_of_run(state: ChainState, run_id: str) -> Entry | None:
    for entry in reversed(state.history):
        gate = entry.predicate.gate
        if gate is not None and gate.flow_run == run_id:
            return entry
    return None
