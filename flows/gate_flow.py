"""The gate as a Prefect flow, so every check is a visible, individually retried task.

Thin over ``gates.engine``, in the library's order: plan (illegal moves are refused
before anything runs), one task per check kind, conclude, sign and append the entry,
move the model alias on a pass, then publish a markdown summary as a Prefect artifact.
A promotion whose passing entry is already the chain's latest gate is finished instead
(the alias moved again), never evaluated twice. Only transient I/O is retried; a check that still cannot run becomes an ``error``
result, so no path turns an exception into a pass.

The flow is ``async`` for speed: Prefect 3.9's sync engine joins the flow-run heartbeat
thread at exit (up to a second per run), the async engine does not. From synchronous
code call it as ``asyncio.run(gate_flow(...))``; flows/README.md has the measurements.

Importing this module also asks a Prefect server that this process starts itself (the
ephemeral server, the test harness) to record task runs in batches, unless the task-run
recorder is configured already: see ``gates.stack.prefect_server.default_recorder_batching``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
from datetime import datetime
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

from gates.clock import parse_time
from gates.engine.actions import (
    finish_promotion,
    move_model_alias,
    record_gate,
    recorded_promotion,
)
from gates.engine.gate import GateEvaluation, GatePlan, conclude, plan_gate
from gates.engine.notify import notify_gate
from gates.errors import EvidenceError, StagegateError
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.results import CheckResult, Status, Verdict
from gates.stack.prefect_server import RECORDER_BATCHING as RECORDER_BATCHING
from gates.stack.prefect_server import default_recorder_batching
from gates.stages import Stage, parse_stage
from gates.workspace.session import Session

FLOW_NAME = "stagegate-gate"
#: Transient failures only (see ``is_transient``); a failed check is never re-rolled.
IO_RETRIES = 2
IO_RETRY_DELAY_SECONDS = 1

#: What this module set on import (``RECORDER_BATCHING``, or {} when the recorder was
#: configured already): the ephemeral server and the test harness start on the first
#: flow run, after the import, and inherit this process's environment.
RECORDER_DEFAULTS_APPLIED = default_recorder_batching(os.environ, get_current_settings())

#: Exception classes, matched anywhere in an exception's MRO by qualified name, that mean
#: "the source did not answer" rather than "the evidence is bad". Names, not imports, so
#: classifying an error never loads boto3, requests or urllib3.
TRANSIENT_ERRORS = frozenset(
    {
        "builtins.ConnectionError",  # refused, reset, aborted, broken pipe
        "builtins.TimeoutError",  # socket.timeout is an alias since 3.10
        "http.client.IncompleteRead",
        "requests.exceptions.ConnectionError",
        "requests.exceptions.Timeout",
        "urllib3.exceptions.ProtocolError",
        "urllib3.exceptions.TimeoutError",
        "botocore.exceptions.ConnectionError",  # endpoint unreachable, connect timeout
        "botocore.exceptions.HTTPClientError",  # connection closed, read timeout
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception that caused it, is a connection failure or timeout.

    The cause chain matters because the engine wraps I/O failures in ``EvidenceError``
    (``raise ... from e``); an explicitly suppressed context (``from None``) is not
    followed, since its author declared it irrelevant.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = {f"{k.__module__}.{k.__qualname__}" for k in type(current).__mro__}
        if names & TRANSIENT_ERRORS:
            return True
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


def _retry_if_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    # Prefect hands the condition a Failed state whose data is the raised exception.
    return isinstance(state.data, BaseException) and is_transient(state.data)


@task(
    name="check",
    task_run_name="check:{kind}",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_if_transient,
    # A gate re-reads its evidence every time: nothing is cached or persisted.
    cache_policy=NO_CACHE,
    persist_result=False,
)
def check_task(plan: GatePlan, kind: str) -> list[CheckResult]:
    """Run one check kind, letting exceptions escape so Prefect can classify them.

    Unlike ``run_check`` this does not catch: a transient failure must reach the retry
    condition as an exception. ``collect_results`` turns what is left into errors.
    """
    module = importlib.import_module(f"gates.checks.{kind}")
    return list(module.run(plan.context))


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


def error_results(kind: str, exc: BaseException) -> list[CheckResult]:
    """The ``error`` result for a check that raised, worded as ``run_check`` words it."""
    if isinstance(exc, StagegateError):
        reason = exc.message
    else:
        reason = f"check crashed: {type(exc).__name__}: {exc}"
    if is_transient(exc):
        reason += f" (still failing after {IO_RETRIES + 1} attempts)"
    return [CheckResult(kind, kind, Status.ERROR, reason)]


async def _settle(future: PrefectFuture[Any]) -> Any:
    """Wait off the event loop; return the task's result, or the exception it ended with."""
    await asyncio.to_thread(wait, [future])
    try:
        return future.result(raise_on_failure=False)
    except Exception as e:  # a run that ended without a readable result (e.g. crashed)
        return e


async def collect_results(plan: GatePlan) -> list[CheckResult]:
    """One task per check kind, all submitted at once; results gathered in kind order."""
    # quote(): Prefect must neither walk nor copy the plan (its memo is shared by the checks).
    futures = [
        (kind, check_task.submit(quote(plan), kind))  # type: ignore[call-overload]
        for kind in plan.kinds
    ]
    results: list[CheckResult] = []
    for kind, future in futures:
        outcome = await _settle(future)
        if isinstance(outcome, BaseException):
            results.extend(error_results(kind, outcome))
        elif isinstance(outcome, list) and all(isinstance(r, CheckResult) for r in outcome):
            results.extend(outcome)
        else:
            reason = f"check returned {type(outcome).__name__}, not a list of results"
            results.append(CheckResult(kind, kind, Status.ERROR, reason))
    return results


def artifact_key(usecase: str, source: Stage, target: Stage) -> str:
    """Prefect artifact keys allow only lower-case letters, digits and dashes."""
    raw = f"gate-{usecase}-{source.value}-to-{target.value}".lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return " ".join(str(value).split()).replace("|", "\\|")


def gate_markdown(
    evaluation: GateEvaluation, entry: Entry, alias: str | None, alias_problem: str | None = None
) -> str:
    plan = evaluation.plan
    blocking = len(evaluation.failing)
    lines = [
        f"# {plan.usecase_id}: {plan.stage.label} → {plan.target.label} — "
        f"**{evaluation.verdict.value.upper()}**",
        "",
        f"{len(evaluation.results)} checks, {blocking} blocking · evaluated at "
        f"{plan.context.now.isoformat()} · criteria `{plan.context.criteria_digest}`",
        "",
        "| check | status | observed | expected | reason |",
        "|---|---|---|---|---|",
    ]
    for r in evaluation.results:
        status = f"**{r.status.value}**" if r.status.blocks else r.status.value
        lines.append(
            f"| {_cell(r.check)} | {status} | {_cell(r.observed)} | {_cell(r.expected)} "
            f"| {_cell(r.reason)} |"
        )
    lines += [
        "",
        f"**Ledger entry** `{entry.key}` (sequence {entry.sequence}, stage after: "
        f"{entry.predicate.stage.after})  ",
        f"**Entry digest** `{entry.digest}`",
    ]
    if evaluation.model:
        lines.append(f"  \n**Gated model** `models:/{evaluation.model[0]}/{evaluation.model[1]}`")
    if alias:
        lines.append(f"  \n**Alias moved** `{alias}`")
    if alias_problem:
        lines.append(f"  \n**Alias NOT moved**: {_cell(alias_problem)}")
    return "\n".join(lines) + "\n"


def summary(evaluation: GateEvaluation, entry: Entry, alias: str | None) -> dict[str, Any]:
    plan = evaluation.plan
    return {
        "usecase": plan.usecase_id,
        "from": plan.stage.value,
        "to": plan.target.value,
        "verdict": evaluation.verdict.value,
        "stage": entry.predicate.stage.after,
        "sequence": entry.sequence,
        "entry_key": entry.key,
        "entry_digest": entry.digest,
        "failing": [
            {"check": r.check, "status": r.status.value, "reason": r.reason}
            for r in evaluation.failing
        ],
        "alias": alias,
    }


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


def resumed_summary(entry: Entry, alias: str | None) -> dict[str, Any]:
    """The flow's return value when the passing gate was already recorded."""
    gate = entry.predicate.gate
    assert gate is not None
    return {
        "usecase": entry.predicate.use_case,
        "from": gate.from_stage,
        "to": gate.to_stage,
        "verdict": gate.verdict,
        "stage": entry.predicate.stage.after,
        "sequence": entry.sequence,
        "entry_key": entry.key,
        "entry_digest": entry.digest,
        "failing": [],
        "alias": alias,
        "alert": None,
        "resumed": True,
    }


async def finish_recorded(session: Session, state: ChainState, entry: Entry) -> dict[str, Any]:
    """The passing gate is already the chain's latest gate: finish its follow-ups only."""
    logger = get_run_logger()
    gate = entry.predicate.gate
    assert gate is not None
    logger.info(
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
    source, target = Stage(gate.from_stage), Stage(gate.to_stage)
    if isinstance(finished, Exception):
        problem = (
            finished.message
            if isinstance(finished, StagegateError)
            else f"{type(finished).__name__}: {finished}"
        )
        raise EvidenceError(
            f"{state.usecase}: the gate passed and is recorded as {entry.key}, "
            f"but the model alias was not moved: {problem}",
            hint="move the alias once MLflow is reachable; the ledger already admits the version",
        ) from finished
    lines = [
        f"# {state.usecase}: {source.label} → {target.label} — **PASS** (already recorded)",
        "",
        f"**Ledger entry** `{entry.key}` (sequence {entry.sequence}), found in the ledger; "
        "nothing was evaluated or written again.  ",
        f"**Entry digest** `{entry.digest}`",
    ]
    if finished:
        lines.append(f"  \n**Alias moved** `{finished}`")
    await acreate_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        key=artifact_key(state.usecase, source, target),
        description=f"{state.usecase} gate {source.value} → {target.value}: pass (already recorded)",
    )
    return resumed_summary(entry, finished if isinstance(finished, str) else None)


def missing_approvals(plan: GatePlan) -> dict[str, int]:
    """Per role, how many more distinct trusted approver keys the gate needs."""
    missing = {}
    for role, needed in sorted(plan.criteria.approvals.items()):
        have = len({a.keyid for a in plan.context.view.approvals if a.role == role})
        if needed > have:
            missing[role] = needed - have
    return missing


async def await_approvals(
    session: Session,
    state: ChainState,
    plan: GatePlan,
    when: datetime | None,
    timeout: float,
    poll: float,
) -> tuple[ChainState, GatePlan]:
    """Wait until the ledger holds the approvals the gate needs, or ``timeout`` passes.

    Approvals are signatures by approvers' own keys, written to the ledger with
    ``stagegate approve``; the flow only re-reads the verified chain. Nothing a person
    types into the run can stand in for one. Returns the newest state and plan.
    """
    logger = get_run_logger()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (missing := missing_approvals(plan)) and loop.time() < deadline:
        roles = ", ".join(f"{n} {role}" for role, n in missing.items())
        logger.info("%s: waiting for %s approval(s) in the ledger", plan.usecase_id, roles)
        await asyncio.sleep(max(0.0, min(poll, deadline - loop.time())))
        state = await asyncio.to_thread(session.ledger.state, plan.usecase_id)
        plan = await asyncio.to_thread(
            plan_gate,
            session.workspace,
            state,
            plan.usecase_id,
            plan.target,
            when if session.clock.simulated else None,
        )
    return state, plan


def _alias_due(evaluation: GateEvaluation) -> bool:
    # A cheap pre-filter so ordinary gates show no alias task; move_model_alias decides.
    return (
        evaluation.verdict is Verdict.PASS
        and evaluation.model is not None
        and bool(evaluation.plan.criteria.alias)
    )


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
    logger = get_run_logger()
    target = _parse_target(to)
    when = parse_time(now, field_name="now") if now is not None else None
    session, state = await asyncio.to_thread(_open, workspace, usecase)
    recorded = recorded_promotion(state, target)
    if recorded is not None:
        return await finish_recorded(session, state, recorded)
    when = session.clock.stamp(when, what=f"a gate evaluation of {usecase}")
    plan = await asyncio.to_thread(plan_gate, session.workspace, state, usecase, target, when)
    waiting = session.workspace.settings.promotion
    timeout = waiting.approval_timeout_seconds if approval_timeout is None else approval_timeout
    if timeout > 0 and missing_approvals(plan):
        state, plan = await await_approvals(
            session, state, plan, when, timeout, waiting.approval_poll_seconds
        )

    # One API client for all task threads of this run, as the sync engine arranges by
    # itself; otherwise every task opens its own client and connection (~30 ms each).
    with SyncClientContext.get_or_create():
        evaluation = conclude(plan, await collect_results(plan))
        written = record_task.submit(  # type: ignore[call-overload]
            quote(session), quote(state), quote(evaluation), _this_flow_run()
        )
        await asyncio.to_thread(wait, [written])
        entry = written.result()  # raises the ledger's own error: nothing claims a pass
        alert = await asyncio.to_thread(notify_gate, session, state, evaluation, entry)

        alias: str | None = None
        alias_error: Exception | None = None
        if _alias_due(evaluation):
            moved = await _settle(
                move_alias_task.submit(quote(session), quote(evaluation))  # type: ignore[call-overload]
            )
            if isinstance(moved, Exception):
                alias_error = moved
            else:
                alias = moved

    for r in evaluation.failing:
        logger.warning("%s %s: %s", r.check, r.status.value, r.reason)
    logger.info(
        "%s %s → %s: %s; entry %s (%s)",
        plan.usecase_id,
        plan.stage.value,
        plan.target.value,
        evaluation.verdict.value,
        entry.key,
        entry.digest,
    )
    alias_problem = None
    if alias_error is not None:
        alias_problem = (
            alias_error.message
            if isinstance(alias_error, StagegateError)
            else f"{type(alias_error).__name__}: {alias_error}"
        )
    await acreate_markdown_artifact(
        markdown=gate_markdown(evaluation, entry, alias, alias_problem),
        key=artifact_key(plan.usecase_id, plan.stage, plan.target),
        description=f"{plan.usecase_id} gate {plan.stage.value} → {plan.target.value}: "
        f"{evaluation.verdict.value}",
    )
    if alias_problem is not None:
        # As in the library path: the promotion stands (the ledger is the source of
        # truth, and admission reads it), but the caller must hear the alias is stale.
        raise EvidenceError(
            f"{plan.usecase_id}: the gate passed and is recorded as {entry.key}, "
            f"but the model alias was not moved: {alias_problem}",
            hint="move the alias once MLflow is reachable; the ledger already admits the version",
        ) from alias_error
    result = summary(evaluation, entry, alias)
    result["alert"] = alert.to_record() if alert else None
    result["resumed"] = False
    return result
