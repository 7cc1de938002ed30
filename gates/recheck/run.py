"""Re-check one use case's current stage, sign the result, alert on news; or all of them.

The library path of the nightly flow: ``recheck_usecase`` never raises for one use
case's problems (a broken source is an ``error`` re-check, a broken chain an ``error``
outcome with nothing written), so one failure never stops the night. A re-check entry
never moves the stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gates.canonical import digest_of
from gates.checks.interface import CheckContext, StageView
from gates.errors import EntryExistsError, StagegateError
from gates.ledger.entry import Entry, entry_key
from gates.ledger.replay import ChainState
from gates.policy.effective import criteria_digest
from gates.policy.model import ExitCriteria
from gates.policy.recheck import RecheckPolicy, effective_recheck_policy
from gates.recheck import health, operations, stage_checks
from gates.recheck.monitoring import load_series
from gates.results import CheckResult, Evidence, Status
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.portable import portable_results
from gates.workspace.session import Session

VERDICTS = ("ok", "warn", "fail", "error")


def recheck_verdict(results: Iterable[CheckResult]) -> str:
    """Any error → error; any fail → fail; any warn → warn; nothing judged → error."""
    statuses = {r.status for r in results}
    if not statuses or Status.ERROR in statuses:
        return "error"
    if Status.FAIL in statuses:
        return "fail"
    if Status.WARN in statuses:
        return "warn"
    return "ok"


@dataclass(frozen=True)
class RecheckEvaluation:
    usecase: str
    stage: Stage
    policy: RecheckPolicy
    results: tuple[CheckResult, ...]

    @property
    def verdict(self) -> str:
        return recheck_verdict(self.results)

    @property
    def health_failed(self) -> bool:
        """A production use case whose health (SLOs, quality, cost, incidents) fails or errs."""
        return self.stage is Stage.PRODUCTION and any(
            r.check.startswith("health:") and r.status.blocks for r in self.results
        )


def evaluate_recheck(
    workspace: Workspace, state: ChainState, usecase_id: str, now: datetime
) -> RecheckEvaluation:
    """Judge the current stage by the criteria the ledger locked. Check crashes become errors.

    The thresholds come from the lock, not from today's spec: loosening one in the spec
    changes nothing but ``criteria:unchanged``, which then fails until an approved
    amendment re-locks them. Only a stage without a lock (Scale) is judged by the spec.
    """
    stage = state.stage
    if stage is None or stage is Stage.STOPPED:
        raise StagegateError(
            f"{usecase_id}: {'not registered' if stage is None else 'stopped'}; nothing to re-check"
        )
    spec = workspace.usecase(usecase_id)
    source = str(workspace.sources.get(usecase_id, usecase_id))
    spec_digest: str | StagegateError | None = None
    spec_criteria: ExitCriteria | None = None
    if stage is not Stage.SCALE:
        try:
            spec_criteria = workspace.criteria(spec, stage)
            spec_digest = criteria_digest(spec_criteria)
        except StagegateError as e:
            spec_digest = e
    criteria = locked_criteria(state, usecase_id) or spec_criteria
    if criteria is None:
        if isinstance(spec_digest, StagegateError):
            raise spec_digest
        criteria = ExitCriteria(stage=stage.value, to_stage=stage.value)
    policy = criteria.recheck or effective_recheck_policy(
        stage, spec.recheck.get(stage.value), source=source
    )
    ctx = CheckContext(
        workspace=workspace,
        usecase=spec,
        stage=stage,
        criteria=criteria,
        criteria_digest=state.lock.digest if state.lock else criteria_digest(criteria),
        view=StageView(stage, state.entered_at, state.lock.digest if state.lock else None),
        now=now.astimezone(UTC),
    )
    results: list[CheckResult] = []
    for step in _steps(policy, state, spec_digest):
        results.extend(_guarded(step, ctx))
    return RecheckEvaluation(usecase_id, stage, policy, portable_results(workspace, tuple(results)))


def locked_criteria(state: ChainState, usecase_id: str) -> ExitCriteria | None:
    """The criteria the ledger locked for the current stage, as the gate wrote them."""
    if state.lock is None:
        return None
    try:
        return ExitCriteria.model_validate(state.lock.criteria)
    except ValueError as e:
        raise StagegateError(
            f"{usecase_id}: the locked {state.lock.stage} criteria ({state.lock.digest}) "
            f"cannot be read by this version: {e}"
        ) from e


Step = tuple[str, Callable[[CheckContext], list[CheckResult]]]


def _steps(
    policy: RecheckPolicy, state: ChainState, spec_digest: str | StagegateError | None
) -> Iterator[Step]:
    if policy.health is not None:
        rule = policy.health
        yield "health", lambda ctx: _health(ctx, policy)
        yield "monitoring:alert-rules", lambda ctx: [operations.alert_rules_result(ctx, rule)]
        yield "operations", lambda ctx: operations.documents_results(ctx, rule)
    yield "time-box", lambda ctx: stage_checks.time_box_result(ctx, policy)
    yield "evidence:freshness", lambda ctx: stage_checks.freshness_result(ctx, policy)
    if policy.criteria_unchanged:
        yield (
            "criteria:unchanged",
            lambda ctx: [stage_checks.criteria_result(ctx, state, spec_digest)],
        )
    yield "risk:sponsors", lambda ctx: stage_checks.sponsors_result(ctx, policy)
    yield "risk:budget", lambda ctx: stage_checks.budget_result(ctx, policy)
    yield "risk:register", lambda ctx: stage_checks.register_results(ctx, policy, state)


def _guarded(step: Step, ctx: CheckContext) -> list[CheckResult]:
    name, run = step
    try:
        return run(ctx)
    except StagegateError as e:
        return [CheckResult(name, "recheck", Status.ERROR, e.message)]
    except Exception as e:  # fail closed: a crashing re-check is an error, never ok
        return [
            CheckResult(name, "recheck", Status.ERROR, f"check crashed: {type(e).__name__}: {e}")
        ]


def _health(ctx: CheckContext, policy: RecheckPolicy) -> list[CheckResult]:
    rule = policy.health
    assert rule is not None
    monitoring = ctx.usecase.evidence.monitoring
    if monitoring is None:
        reason = (
            "no monitoring declared (evidence.monitoring: an MLflow experiment and/or an "
            "operational dataset): production health cannot be judged"
        )
        return [
            CheckResult(name, health.KIND, Status.ERROR, reason) for name in health.HEALTH_CHECKS
        ]
    try:
        series = load_series(ctx, monitoring, rule.window_days)
    except StagegateError as e:
        return [
            CheckResult(name, health.KIND, Status.ERROR, f"monitoring source: {e.message}")
            for name in health.HEALTH_CHECKS
        ]
    return health.judge(
        series, rule, ctx.now, ctx.criteria.budget_for("production"), ctx.criteria.currency
    )


def recheck_record(evaluation: RecheckEvaluation, alert: dict[str, str] | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "stage": evaluation.stage.value,
        "verdict": evaluation.verdict,
        "policyDigest": evaluation.policy.digest,
        "checks": [r.to_json() for r in evaluation.results],
    }
    if alert is not None:
        record["alert"] = alert
    return record


def record_recheck(
    session: Session,
    state: ChainState,
    evaluation: RecheckEvaluation,
    *,
    now: datetime,
    alert: dict[str, str] | None = None,
) -> Entry:
    """Sign the re-check into the chain; the stage stays where it is."""
    assert state.stage is not None
    spec = session.workspace.usecases.get(evaluation.usecase)
    records: dict[str, Any] = {"recheck": recheck_record(evaluation, alert)}
    if spec is not None:
        records["specDigest"] = digest_of(spec.model_dump(mode="json"))
    return session.ledger.append(
        state,
        session.signer,
        kind="recheck",
        after=state.stage,
        actor=session.actor,
        time=now if session.clock.simulated else None,
        records=records,
    )


@dataclass(frozen=True)
class RecheckOutcome:
    usecase: str
    stage: str | None
    verdict: str
    results: tuple[CheckResult, ...] = ()
    entry: str | None = None
    sequence: int | None = None
    alert: str = "none"
    alert_detail: str = ""
    message: str = ""
    health_failed: bool = False

    @property
    def problems(self) -> tuple[CheckResult, ...]:
        return tuple(
            r for r in self.results if r.status in (Status.WARN, Status.FAIL, Status.ERROR)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "useCase": self.usecase,
            "stage": self.stage,
            "verdict": self.verdict,
            "entry": self.entry,
            "sequence": self.sequence,
            "alert": self.alert,
            "alertDetail": self.alert_detail,
            "healthFailed": self.health_failed,
            "message": self.message,
            "checks": [r.to_json() for r in self.results],
        }


def recheck_from_json(data: dict[str, Any]) -> RecheckOutcome:
    """The outcome back from ``RecheckOutcome.to_json`` (as the nightly flow returns it)."""
    results = tuple(
        CheckResult(
            c["check"],
            c["kind"],
            Status(c["status"]),
            c["reason"],
            c.get("observed"),
            c.get("expected"),
            tuple(
                Evidence(e["kind"], e["uri"], e.get("digest"), e.get("details") or {})
                for e in c.get("evidence", [])
            ),
        )
        for c in data.get("checks", [])
    )
    return RecheckOutcome(
        usecase=data["useCase"],
        stage=data.get("stage"),
        verdict=data["verdict"],
        results=results,
        entry=data.get("entry"),
        sequence=data.get("sequence"),
        alert=data.get("alert", "none"),
        alert_detail=data.get("alertDetail", ""),
        message=data.get("message", ""),
        health_failed=bool(data.get("healthFailed")),
    )


def recheck_usecase(
    session: Session, usecase_id: str, now: datetime | None = None, *, notify: bool = True
) -> RecheckOutcome:
    """Re-check, alert and record one use case. Never raises for its own problems.

    ``now`` is honoured only on a simulated clock (``Clock.stamp``); on the system clock
    the re-check is judged and signed at the signer's own time.
    """
    try:
        when = session.clock.stamp(now, what=f"a re-check of {usecase_id}")
        for attempt in range(2):
            state = session.ledger.state(usecase_id)
            if state.stage is None or state.stage is Stage.STOPPED:
                return RecheckOutcome(
                    usecase_id,
                    state.stage.value if state.stage else None,
                    "skipped",
                    message="stopped: nothing to re-check" if state.stage else "not registered",
                )
            evaluation = evaluate_recheck(session.workspace, state, usecase_id, when)
            alert = _notify(session, state, evaluation, when) if notify else None
            try:
                entry = record_recheck(session, state, evaluation, now=when, alert=alert)
            except EntryExistsError:
                if attempt:
                    raise
                continue  # another writer extended the chain meanwhile: judge the new head
            return RecheckOutcome(
                usecase_id,
                evaluation.stage.value,
                evaluation.verdict,
                evaluation.results,
                entry.key,
                entry.sequence,
                alert["status"] if alert else "none",
                alert.get("detail", "") if alert else "",
                health_failed=evaluation.health_failed,
            )
    except StagegateError as e:
        return RecheckOutcome(usecase_id, None, "error", message=e.diagnostics())
    except Exception as e:  # one use case's crash must not stop the night
        return RecheckOutcome(usecase_id, None, "error", message=f"{type(e).__name__}: {e}")
    raise AssertionError("unreachable")


def _notify(
    session: Session, state: ChainState, evaluation: RecheckEvaluation, now: datetime
) -> dict[str, str]:
    """Alert before writing, so the entry records whether people were told."""
    from gates.alerts import AlertEvent, failing_checks, previous_recheck, send_alert

    spec = session.workspace.usecases.get(evaluation.usecase)
    event = AlertEvent(
        kind="recheck",
        usecase=evaluation.usecase,
        title=spec.title if spec else evaluation.usecase,
        stage=evaluation.stage.value,
        verdict=evaluation.verdict,
        target=None,
        checks=failing_checks(evaluation.results),
        entry_key=entry_key(evaluation.usecase, state.next_sequence),
        sequence=state.next_sequence,
        time=now,
    )
    previous = previous_recheck(state.history, evaluation.stage.value)
    outcome = send_alert(session.workspace.settings.alerts, event, previous)
    return {"status": outcome.status, "detail": outcome.detail}


def targets(session: Session, usecases: Iterable[str] | None = None) -> list[str]:
    """Which use cases a night re-checks: the given ones, else every chain and every spec."""
    if usecases:
        return list(dict.fromkeys(usecases))
    return sorted(set(session.ledger.usecases()) | set(session.workspace.usecases))


@dataclass(frozen=True)
class Night:
    """What a night re-checks, and as of when."""

    #: The night's time, as the session's clock allows it (``Clock.stamp``).
    at: datetime
    #: The time each re-check is judged and signed at: the night's on a simulated clock;
    #: None on the system clock, where each use case takes its own moment (a long night
    #: must not sign entries with the time it started).
    per_usecase: datetime | None
    usecases: tuple[str, ...]


def plan_night(
    session: Session, usecases: Iterable[str] | None = None, at: datetime | None = None
) -> Night:
    """The use cases to re-check (the given ones, else all) and the night's time."""
    night = session.clock.stamp(at, what="a night of re-checks")
    return Night(
        at=night,
        per_usecase=night if session.clock.simulated else None,
        usecases=tuple(targets(session, usecases)),
    )


def recheck_all(
    session: Session,
    usecases: Iterable[str] | None = None,
    now: datetime | None = None,
    *,
    workers: int = 1,
    notify: bool = True,
) -> list[RecheckOutcome]:
    """The night without Prefect: every target re-checked, in order, ``workers`` at a time."""
    night = plan_night(session, usecases, now)
    when = night.per_usecase
    session.ledger  # noqa: B018  (open store and trust once, before any thread)
    if workers <= 1:
        return [recheck_usecase(session, uc, when, notify=notify) for uc in night.usecases]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(lambda uc: recheck_usecase(session, uc, when, notify=notify), night.usecases)
        )


def exit_code(verdicts: Iterable[str]) -> int:
    """0 all ok or warning; 1 any re-check failed; 2 any could not run (error wins)."""
    verdicts = set(verdicts)
    if "error" in verdicts:
        return 2
    return 1 if "fail" in verdicts else 0
