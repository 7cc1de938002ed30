"""The nightly re-check as a Prefect flow: every use case's current stage, fanned out.

The steps are ``gates.recheck``'s (``plan_night``, ``recheck_batch``, ``night_summary``,
``gates.recheck.night``); this module maps them to Prefect. One task per use case (in
even batches beyond ``[schedule] max_tasks``), on a thread pool by default or on a Dask
cluster (``[schedule] task_runner = "dask"``, with ``dask_address`` of a running
scheduler or a local cluster started for the run). Each use case is re-checked, alerted
on and signed into its own ``recheck`` entry; one use case's failure never stops the
others. The run publishes a table artifact of the night and ends **Failed** when any
production use case fails its health check, so Prefect's own notifications and
dashboards see it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, wait
from prefect.settings import get_current_settings
from prefect.states import Completed, Failed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from gates.clock import parse_time
from gates.errors import StagegateError
from gates.recheck.night import (
    NightTable,
    NightTally,
    RecheckedBatch,
    batch_label,
    batch_outcomes,
    batches,
    recheck_batch,
)
from gates.recheck.run import RecheckOutcome, plan_night
from gates.stack.prefect_server import default_recorder_batching
from gates.workspace.session import Session
from gates.workspace.settings import ScheduleSettings

FLOW_NAME = "stagegate-nightly-recheck"
ARTIFACT_KEY = "stagegate-nightly-recheck"

# A server this process starts (the ephemeral one) records task runs in batches, as for
# the gate flow.
default_recorder_batching(os.environ, get_current_settings())

_sessions: dict[str, Session] = {}
_sessions_lock = threading.Lock()


def session_for(workspace: str) -> Session:
    """One session per workspace and process: Dask workers open their own on first use."""
    with _sessions_lock:
        session = _sessions.get(workspace)
        if session is None:
            # Specs read when their use case's turn comes: a night holds a few, not all.
            session = Session.open(Path(workspace), specs_on_demand=True)
            session.ledger  # noqa: B018  (open store and trust once, not per thread)
            _sessions[workspace] = session
        return session


@task(
    name="recheck",
    task_run_name="recheck-{label}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def recheck_task(
    workspace: str, usecases: list[str], now: datetime | None, label: str, notify: bool = True
) -> RecheckedBatch:
    """``recheck_batch`` in this worker's session of the workspace, as one object.

    One object per batch, not a list: Prefect keeps a link to each item of a list a task
    returns until the flow ends (see ``RecheckedBatch``).
    """
    return RecheckedBatch(recheck_batch(session_for(workspace), usecases, now, notify=notify))


def task_runner_for(schedule: ScheduleSettings, choice: str | None = None) -> TaskRunner[Any]:
    """Thread pool by default; Dask when settings (or ``choice``) say so."""
    kind = choice or schedule.task_runner
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=schedule.workers)
    if kind == "dask":
        try:
            from prefect_dask.task_runners import DaskTaskRunner
        except ImportError:
            raise StagegateError(
                "task runner 'dask' needs prefect-dask",
                hint="install stagegate[dask] (prefect-dask and distributed)",
            ) from None
        if schedule.dask_address:
            return DaskTaskRunner(address=schedule.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 4})
    raise StagegateError(f"task runner {kind!r}: expected 'threads' or 'dask'")


def _outcomes_of(batch: list[str], future: PrefectFuture[Any]) -> list[RecheckOutcome]:
    """The batch's outcomes; a task that ended without them is an error for each use case."""
    try:
        result = future.result(raise_on_failure=False)
    except Exception as e:  # a task that crashed without a result
        result = e
    return batch_outcomes(batch, result)


def _fan_out(
    runner: TaskRunner[Any],
    workspace: str,
    ids: list[str],
    now: datetime | None,
    notify: bool,
    max_tasks: int,
    logger: Any,
) -> NightTally:
    tally = NightTally()
    with runner:
        pending = deque(
            (
                batch,
                runner.submit(
                    recheck_task,
                    {
                        "workspace": workspace,
                        "usecases": batch,
                        "now": now,
                        "label": batch_label(batch),
                        "notify": notify,
                    },
                ),
            )
            for batch in batches(ids, max_tasks)
        )
        # Batches are read in order as they finish and then let go: a finished future
        # holds its batch's outcomes, and holding every future (or outcome) until the
        # last one ends would make the night's memory grow with its size.
        while pending:
            batch, future = pending.popleft()
            wait([future])
            outcomes = _outcomes_of(batch, future)
            del future
            _log_problems(logger, outcomes)
            tally.add(outcomes)
    return tally


def _log_problems(logger: Any, outcomes: list[RecheckOutcome]) -> None:
    for o in outcomes:
        if o.verdict in ("fail", "error"):
            logger.warning(
                "%s %s: %s",
                o.usecase,
                o.verdict,
                o.message
                or "; ".join(f"{r.check}: {r.reason}" for r in o.problems if r.status.blocks),
            )


@flow(name=FLOW_NAME, flow_run_name="nightly-recheck", persist_result=False, log_prints=False)
async def nightly_recheck(
    workspace: str | None = None,
    usecases: list[str] | None = None,
    at: str | None = None,
    task_runner: str | None = None,
    notify: bool = True,
) -> State[Any]:
    """Re-check every use case (or ``usecases``) as of ``at`` (ISO 8601; default now).

    Ends Completed with the night's summary, or Failed (same summary as its data) when
    a production use case fails its health check.
    """
    root_dir = str(Path(workspace).resolve()) if workspace else _found()
    session = await asyncio.to_thread(session_for, root_dir)
    root = str(session.workspace.root)
    requested = parse_time(at, field_name="at") if at else None
    night = await asyncio.to_thread(plan_night, session, usecases, requested)
    ids = list(night.usecases)
    schedule = session.workspace.settings.schedule
    runner = task_runner_for(schedule, task_runner)
    tally = await asyncio.to_thread(
        _fan_out,
        runner,
        root,
        ids,
        night.per_usecase,
        notify,
        schedule.max_tasks,
        get_run_logger(),
    )
    summary = tally.summary()
    await publish_table(
        tally.table,
        description=f"Nightly re-check of {len(ids)} use case(s) as of {night.at.isoformat()}: "
        + ", ".join(f"{n} {v}" for v, n in sorted(summary["counts"].items())),
    )
    failed = summary["healthFailed"]
    if failed:
        return Failed(message=f"production health failed: {', '.join(failed)}", data=summary)
    return Completed(message=f"re-checked {len(ids)} use case(s)", data=summary)


async def publish_table(table: NightTable, description: str) -> None:
    """The night's table artifact, sent as the text the night built row by row.

    The same artifact as ``create_table_artifact(table=rows)`` (a ``table`` artifact
    whose data is ``json.dumps(rows)``), without its copies of the rows: it validates
    them into a model, sanitises them into another copy and encodes that, so at the end
    of a night of ten thousand use cases the table was held four times over.
    """
    context = FlowRunContext.get()
    flow_run_id = context.flow_run.id if context and context.flow_run else None
    async with get_client() as client:
        await client.create_artifact(
            ArtifactCreate(
                type="table",
                key=ARTIFACT_KEY,
                description=description,
                flow_run_id=flow_run_id,
                data=table.text(),
            )
        )


def _found() -> str:
    from gates.workspace.loader import find_workspace

    return str(find_workspace().resolve())
