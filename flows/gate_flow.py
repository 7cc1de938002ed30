"""The gate as a Prefect flow: the engine's promotion steps, each check a visible task.

The steps and their order are ``gates.engine``'s, as ``promote`` takes them in-process:
finish a recorded pass (``recorded_promotion``, ``finish_promotion``), else plan
(``plan_promotion``), wait for signed approvals (``ApprovalWait``), run the checks and
conclude, record, alert, move the model alias. This module maps them to Prefect: one
task per check (retried only on transient I/O, ``gates.engine.failures``), the record
task (never retried), the alias tasks, and the markdown artifact of the gate
(``gates.report.gate_summary``). No path turns an exception into a pass.

The flow is ``async`` for speed: Prefect 3.9's sync engine joins the flow-run heartbeat
thread at exit (up to a second per run), the async engine does not. From synchronous
code call it through ``run_gate``, which also gives the whole run one synchronous API
client; flows/README.md has the measurements.

Importing this module also asks a Prefect server that this process starts itself (the
ephemeral server, the test harness) to record task runs in batches, unless the task-run
recorder is configured already: see ``gates.stack.prefect_server.default_recorder_batching``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import SyncClientContext
from prefect.futures import PrefectFuture, wait
from prefect.settings import get_current_settings
from prefect.tasks import Task
from prefect.utilities.annotations import quote

from gates.checks.interface import Check, CheckRegistry
from gates.checks.registry import DEFAULT_CHECKS
from gates.clock import parse_time
from gates.engine.actions import plan_promotion, record_gate
from gates.engine.approvals import ApprovalWait, missing_text
from gates.engine.failures import is_transient, problem_text
from gates.engine.followups import (
    alias_due,
    alias_not_moved,
    finish_promotion,
    move_model_alias,
    recorded_promotion,
)
from gates.engine.gate import GateEvaluation, GatePlan, check_results, conclude
from gates.engine.notify import notify_gate
from gates.errors import StagegateError
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.report.gate_summary import (
    artifact_key,
    gate_markdown,
    gate_summary,
    resumed_markdown,
    resumed_summary,
)
from gates.results import CheckResult
from gates.stack.prefect_server import RECORDER_BATCHING as RECORDER_BATCHING
from gates.stack.prefect_server import default_recorder_batching
from gates.stages import Stage, parse_stage
from gates.workspace.session import Session

FLOW_NAME = "stagegate-gate"
#: Set on the log records of failing checks: a caller that prints the gate's table
#: keeps them off its terminal (``flows.promotion.checks_shown_by_caller``).
GATE_CHECK_LOG = "stagegate_gate_check"
#: Transient failures only (``gates.engine.failures.is_transient``); a failed check is
#: never re-rolled.
IO_RETRIES = 2
IO_RETRY_DELAY_SECONDS = 1

#: What this module set on import (``RECORDER_BATCHING``, or {} when the recorder was
#: configured already): the ephemeral server and the test harness start on the first
#: flow run, after the import, and inherit this process's environment.
RECORDER_DEFAULTS_APPLIED = default_recorder_batching(os.environ, get_current_settings())


def _retry_if_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    # Prefect hands the condition a Failed state whose data is the raised exception.
    return isinstance(state.data, BaseException) and is_transient(state.data)


@task(
    name="check",
    task_run_name="check:{check.kind}",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_if_transient,
    # A gate re-reads its evidence every time: nothing is cached or persisted.
    cache_policy=NO_CACHE,
    persist_result=False,
)
def check_task(plan: GatePlan, check: Check) -> object:
    """Run one check, letting exceptions escape so Prefect can classify them.

    Unlike ``run_check`` this does not catch: a transient failure must reach the retry
    condition as an exception. ``run_check_tasks`` turns what is left into errors.
    """
    return check.run(plan.context)


@task(name="record-gate", cache_policy=NO_CACHE, persist_result=False)
def record_task(
    session: Session, state: ChainState, evaluation: GateEvaluation, flow_run: str | None
) -> Entry:
    """Sign and append the gate entry, naming this flow run. Not retried by Prefect: the
    store settles a write whose answer was lost by reading it back, and a re-run of the
    promotion finishes a pass that landed (``recorded_promotion``)."""
    return record_gate(session, state, evaluation, flow_run=flow_run)


@task(
    name="move-alias",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_if_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def move_alias_task(session: Session, evaluation: GateEvaluation) -> str | None:
    """Point the stage alias at the gated version; setting an alias is idempotent."""
    return move_model_alias(session, evaluation)


@task(
    name="finish-promotion",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_if_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def finish_task(session: Session, state: ChainState, entry: Entry) -> str | None:
    """Run the follow-ups of a passing gate already in the ledger; they are idempotent."""
    return finish_promotion(session, state, entry)


async def _settle(future: PrefectFuture[Any]) -> Any:
    """Wait off the event loop; return the task's result, or the exception it ended with."""
    await asyncio.to_thread(wait, [future])
    try:
        return future.result(raise_on_failure=False)
    except Exception as e:  # a run that ended without a readable result (e.g. crashed)
        return e


async def run_check_tasks(plan: GatePlan) -> list[CheckResult]:
    """One task per planned check, all submitted at once; results gathered in plan order."""
    # quote(): Prefect must neither walk nor copy the plan (its memo is shared by the checks).
    futures = [
        (check, check_task.submit(quote(plan), quote(check)))  # type: ignore[call-overload]
        for check in plan.checks
    ]
    results: list[CheckResult] = []
    for check, future in futures:
        outcome = await _settle(future)
        results.extend(check_results(check.kind, outcome, attempts=IO_RETRIES + 1))
    return results


async def wait_for_approvals(
    session: Session, state: ChainState, plan: GatePlan, timeout: float
) -> tuple[ChainState, GatePlan]:
    """``ApprovalWait`` with the pauses awaited and the ledger read off the event loop."""
    logger = get_run_logger()
    poll = session.workspace.settings.promotion.approval_poll_seconds
    waiting = ApprovalWait.start(session, state, plan, timeout=timeout, poll=poll)
    while (pause := waiting.pause()) is not None:
        logger.info(
            "%s: waiting for %s approval(s) in the ledger",
            plan.usecase_id,
            missing_text(waiting.missing),
        )
        await asyncio.sleep(pause)
        await asyncio.to_thread(waiting.look_again)
    return waiting.state, waiting.plan


def _parse_target(to: str) -> Stage:
    try:
        return parse_stage(to)
    except ValueError as e:
        raise StagegateError(f"to: {e}") from None


def _open(workspace: str | None, usecase: str) -> tuple[Session, ChainState]:
    session = Session.open(Path(workspace) if workspace else None)
    return session, session.ledger.state(usecase)


def _this_flow_run() -> str | None:
    """The id of the flow run this code runs in, recorded in the gate entry."""
    from prefect.runtime import flow_run

    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


async def finish_recorded(session: Session, state: ChainState, entry: Entry) -> dict[str, Any]:
    """The passing gate is already the chain's latest gate: finish its follow-ups only."""
    gate = entry.predicate.gate
    assert gate is not None
    get_run_logger().info(
        "%s: found the passing gate %s → %s already recorded as %s; finishing its follow-ups",
        state.usecase,
        gate.from_stage,
        gate.to_stage,
        entry.key,
    )
    with SyncClientContext.get_or_create():
        finished = await _settle(
            finish_task.submit(quote(session), quote(state), quote(entry))  # type: ignore[call-overload]
        )
    if isinstance(finished, BaseException):
        raise alias_not_moved(state.usecase, entry, finished) from finished
    alias = finished if isinstance(finished, str) else None
    source, target = Stage(gate.from_stage), Stage(gate.to_stage)
    await acreate_markdown_artifact(
        markdown=resumed_markdown(entry, alias),
        key=artifact_key(state.usecase, source, target),
        description=f"{state.usecase} gate {source.value} → {target.value}: pass (already recorded)",
    )
    return resumed_summary(entry, alias)


async def run_gate_flow(
    usecase: str,
    to: str,
    workspace: str | None = None,
    now: str | None = None,
    approval_timeout: float | None = None,
    *,
    checks: CheckRegistry = DEFAULT_CHECKS,
) -> dict[str, Any]:
    """The body of ``gate_flow``, run inside a flow, with the checks of ``checks``."""
    logger = get_run_logger()
    target = _parse_target(to)
    requested = parse_time(now, field_name="now") if now is not None else None
    session, state = await asyncio.to_thread(_open, workspace, usecase)
    recorded = recorded_promotion(state, target)
    if recorded is not None:
        return await finish_recorded(session, state, recorded)
    plan = await asyncio.to_thread(
        plan_promotion, session, state, usecase, target, requested, checks=checks
    )
    waiting = session.workspace.settings.promotion
    timeout = waiting.approval_timeout_seconds if approval_timeout is None else approval_timeout
    state, plan = await wait_for_approvals(session, state, plan, timeout)

    # One API client for all task threads of this run, as the sync engine arranges by
    # itself; otherwise every task opens its own client and connection (~30 ms each).
    with SyncClientContext.get_or_create():
        evaluation = conclude(plan, await run_check_tasks(plan))
        written = record_task.submit(  # type: ignore[call-overload]
            quote(session), quote(state), quote(evaluation), _this_flow_run()
        )
        await asyncio.to_thread(wait, [written])
        entry = written.result()  # raises the ledger's own error: nothing claims a pass
        alert = await asyncio.to_thread(notify_gate, session, state, evaluation, entry)
        moved: Any = None
        if alias_due(evaluation):  # so that ordinary gates show no alias task
            moved = await _settle(
                move_alias_task.submit(quote(session), quote(evaluation))  # type: ignore[call-overload]
            )

    for r in evaluation.failing:
        logger.warning("%s %s: %s", r.check, r.status.value, r.reason, extra={GATE_CHECK_LOG: True})
    logger.info(
        "%s %s → %s: %s; entry %s (%s)",
        plan.usecase_id,
        plan.stage.value,
        plan.target.value,
        evaluation.verdict.value,
        entry.key,
        entry.digest,
    )
    alias_error = moved if isinstance(moved, BaseException) else None
    alias = moved if isinstance(moved, str) else None
    await acreate_markdown_artifact(
        markdown=gate_markdown(
            evaluation, entry, alias, problem_text(alias_error) if alias_error else None
        ),
        key=artifact_key(plan.usecase_id, plan.stage, plan.target),
        description=f"{plan.usecase_id} gate {plan.stage.value} → {plan.target.value}: "
        f"{evaluation.verdict.value}",
    )
    if alias_error is not None:
        # As in ``promote``: the promotion stands (the ledger is the source of truth, and
        # admission reads it), but the caller must hear the alias is stale.
        raise alias_not_moved(plan.usecase_id, entry, alias_error) from alias_error
    result = gate_summary(evaluation, entry, alias)
    result["alert"] = alert.to_record() if alert else None
    result["resumed"] = False
    return result


@flow(
    name=FLOW_NAME,
    flow_run_name="gate-{usecase}-to-{to}",
    log_prints=False,
    persist_result=False,
)
async def gate_flow(
    usecase: str,
    to: str,
    workspace: str | None = None,
    now: str | None = None,
    approval_timeout: float | None = None,
) -> dict[str, Any]:
    """Run the gate of ``usecase`` to stage ``to`` and record its signed verdict.

    ``now`` is ISO 8601 (a time without a zone is UTC, ``gates.clock.parse_time``),
    honoured only where the workspace's clock allows it (``Clock.stamp``).

    When approvals the gate needs are not yet in the ledger, the run waits for them up
    to ``approval_timeout`` seconds (default ``[promotion] approval_timeout_seconds``),
    re-reading the ledger every ``approval_poll_seconds``; then the gate runs, and ends
    blocked naming the roles still missing.

    Returns ``usecase``, ``from``, ``to``, ``verdict`` (pass, blocked, error), ``stage``
    after the gate, the entry's ``sequence``, ``entry_key`` and ``entry_digest``, the
    ``failing`` checks, the ``alias`` moved (or None), the ``alert`` sent and whether
    the run ``resumed``. The entry records this flow run's id (``gate.flowRun``).

    When the passing gate into ``to`` is already the chain's latest gate (its entry
    landed but its follow-ups did not run), nothing is evaluated or written: the run
    finishes the follow-ups and returns that entry with ``resumed`` true. An illegal
    move, a bad workspace or a ledger that fails verification raises its StagegateError
    before anything is written, so the run fails with that message.
    """
    return await run_gate_flow(usecase, to, workspace, now, approval_timeout)


def run_gate(**arguments: Any) -> Any:
    """``gate_flow(**arguments)`` run to the end from synchronous code, as stagegate runs it.

    Under one synchronous API client for the whole run. Prefect 3.9.1 otherwise builds a
    new one wherever a flow run's result store is made without a client in context: the
    run context for the run-name template and the run's own context each read the
    server's default result storage through one (~20 ms of CPU to build: its TLS context
    loads the CA bundle even for an ``http://`` API), and the check tasks need a third.
    """
    with SyncClientContext.get_or_create():
        return asyncio.run(gate_flow(**arguments))
