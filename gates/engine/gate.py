"""A gate: plan it from the verified ledger, run its checks, conclude a verdict.

The steps are separate so the Prefect flow can run each check as a task, while
``evaluate_gate`` runs the same steps in-process. The checks come from a registry the
caller hands in (``gates.checks.registry.DEFAULT_CHECKS`` unless it says otherwise).
Any exception inside a check becomes an ``error`` result: no path turns an exception
into a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gates.checks.interface import Check, CheckContext, CheckRegistry, StageView
from gates.checks.registry import DEFAULT_CHECKS
from gates.engine.failures import check_error
from gates.errors import PromotionRefused
from gates.ledger.replay import ChainState
from gates.policy.effective import criteria_digest
from gates.policy.model import ExitCriteria
from gates.results import CheckResult, Status, Verdict, verdict_of
from gates.stages import Stage, next_stage
from gates.workspace.loader import Workspace
from gates.workspace.portable import portable_results


@dataclass(frozen=True)
class GatePlan:
    context: CheckContext
    target: Stage
    #: The checks this gate runs: those of the registry that apply, in its order.
    checks: tuple[Check, ...] = ()
    #: The model version admitted into the current stage, carried forward when this
    #: gate's own evidence names none (e.g. Pilot → Production judges the pilot model).
    incumbent_model: tuple[str, str] | None = None

    @property
    def usecase_id(self) -> str:
        return self.context.usecase.id

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(check.kind for check in self.checks)

    @property
    def stage(self) -> Stage:
        return self.context.stage

    @property
    def criteria(self) -> ExitCriteria:
        return self.context.criteria


@dataclass(frozen=True)
class GateEvaluation:
    plan: GatePlan
    results: tuple[CheckResult, ...]
    verdict: Verdict
    model: tuple[str, str] | None = None

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status.blocks)


def plan_gate(
    workspace: Workspace,
    state: ChainState,
    usecase_id: str,
    target: Stage,
    now: datetime | None = None,
    *,
    checks: CheckRegistry = DEFAULT_CHECKS,
) -> GatePlan:
    """Refuse illegal moves (skips, backward, from Stopped) before any check runs.

    The plan keeps the checks of ``checks`` that have something to judge under the
    stage's criteria, in the registry's order.
    """
    usecase = workspace.usecase(usecase_id)
    current = state.stage
    if current is None:
        raise PromotionRefused(
            f"{usecase_id}: not registered in the ledger yet",
            hint=f"run `stagegate register {usecase_id}` to enter Explore",
        )
    expected = next_stage(current)
    if target != expected:
        if current is Stage.STOPPED:
            raise PromotionRefused(
                f"{usecase_id}: stopped by a No-Go decision; it cannot be promoted"
            )
        allowed = expected.value if expected else "none (last stage)"
        raise PromotionRefused(
            f"{usecase_id}: cannot move from {current.value} to {target.value}; "
            f"stages move one at a time (next allowed: {allowed})"
        )
    criteria = workspace.criteria(usecase, current)
    view = StageView(
        stage=current,
        entered_at=state.entered_at,
        locked_digest=state.lock.digest if state.lock else None,
        approvals=state.current_approvals,
        superseded=state.superseded_approvals,
        extended_by=state.extended_by,
    )
    context = CheckContext(
        workspace=workspace,
        usecase=usecase,
        stage=current,
        criteria=criteria,
        criteria_digest=criteria_digest(criteria),
        view=view,
        now=(now or datetime.now(UTC)).astimezone(UTC),
    )
    return GatePlan(
        context=context,
        target=target,
        checks=tuple(check for check in checks.values() if check.applies(criteria)),
        incumbent_model=_incumbent_model(state),
    )


def _incumbent_model(state: ChainState) -> tuple[str, str] | None:
    for entry in reversed(state.history):
        gate = entry.predicate.gate
        if gate is not None and gate.verdict == "pass":
            return (gate.model.name, gate.model.version) if gate.model else None
    return None


def run_check(plan: GatePlan, check: Check) -> list[CheckResult]:
    """Run one check in-process; exceptions become ``error`` results naming what broke."""
    try:
        outcome: object = check.run(plan.context)
    except Exception as e:  # fail closed: a crashing check is an error, never a pass
        outcome = e
    return check_results(check.kind, outcome)


def check_results(kind: str, outcome: object, *, attempts: int = 1) -> list[CheckResult]:
    """What a run of the check ``kind`` adds to the gate: its results, or one ``error``.

    ``outcome`` is what the run returned or the exception it ended with (after
    ``attempts`` tries); anything but a list of results is an error, never a pass.
    """
    if isinstance(outcome, BaseException):
        return [check_error(kind, outcome, attempts=attempts)]
    if isinstance(outcome, list | tuple) and all(isinstance(r, CheckResult) for r in outcome):
        return list(outcome)
    reason = f"check returned {type(outcome).__name__}, not a list of results"
    return [CheckResult(kind, kind, Status.ERROR, reason)]


def conclude(plan: GatePlan, results: list[CheckResult]) -> GateEvaluation:
    """The verdict of ``results``, with their evidence located as entries record it."""
    flat = portable_results(plan.context.workspace, tuple(results))
    return GateEvaluation(
        plan=plan, results=flat, verdict=verdict_of(flat), model=gated_model(plan, flat)
    )


def gated_model(plan: GatePlan, results: tuple[CheckResult, ...]) -> tuple[str, str] | None:
    """The registered model version the gate's metrics came from, if the evidence names one."""
    usecase = plan.context.usecase
    if usecase.model is None:
        return None
    for result in results:
        for ev in result.evidence:
            uri = ev.details.get("model_version") if ev.kind == "mlflow-run" else None
            if isinstance(uri, str) and uri.startswith("models:/"):
                name, _, version = uri.removeprefix("models:/").rpartition("/")
                if name == usecase.model.name and version:
                    return name, version
    return plan.incumbent_model


def evaluate_gate(
    workspace: Workspace,
    state: ChainState,
    usecase_id: str,
    target: Stage,
    now: datetime | None = None,
    *,
    checks: CheckRegistry = DEFAULT_CHECKS,
) -> GateEvaluation:
    """Plan, run every check in-process and conclude: the library path without Prefect."""
    return run_gate(plan_gate(workspace, state, usecase_id, target, now, checks=checks))


def run_gate(plan: GatePlan) -> GateEvaluation:
    """Run the plan's checks in-process, in order, and conclude."""
    results: list[CheckResult] = []
    for check in plan.checks:
        results.extend(run_check(plan, check))
    return conclude(plan, results)
