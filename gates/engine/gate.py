"""A gate: plan it from the verified ledger, run its checks, conclude a verdict.

The three steps are separate so the Prefect flow can run each check as a task, while
``evaluate_gate`` runs the same steps in-process. Any exception inside a check becomes
an ``error`` result: no path turns an exception into a pass.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gates.checks.interface import CheckContext, StageView
from gates.errors import PromotionRefused, StagegateError
from gates.ledger.replay import ChainState
from gates.policy.effective import criteria_digest
from gates.policy.model import ExitCriteria
from gates.results import CheckResult, Status, Verdict, verdict_of
from gates.stages import Stage, next_stage
from gates.workspace.loader import Workspace

#: Check kinds in the order a reader meets them in a gate report: module under gates.checks.
CHECK_KINDS: tuple[str, ...] = (
    "criteria_lock",
    "timebox",
    "sponsors",
    "approvals",
    "deliverables",
    "expectations",
    "mlflow_metrics",
    "pilot_outcomes",
    "blockers",
    "cost_forecast",
    "scale_readiness",
    "next_criteria",
)


#: Which check kinds have something to judge under given criteria. Kinds that do not
#: apply are left out of the plan (and of the Prefect run) instead of reporting nothing.
APPLIES: dict[str, Callable[[ExitCriteria], bool]] = {
    "criteria_lock": lambda c: True,
    "timebox": lambda c: c.time_box.planned_days is not None or c.time_box.max_days is not None,
    "sponsors": lambda c: c.sponsors is not None or bool(c.budget_required_for),
    "approvals": lambda c: any(n > 0 for n in c.approvals.values()),
    "deliverables": lambda c: bool(c.deliverables),
    "expectations": lambda c: bool(c.datasets),
    "mlflow_metrics": lambda c: bool(c.metrics),
    "pilot_outcomes": lambda c: c.pilot is not None,
    "blockers": lambda c: c.open_blockers_max is not None,
    "cost_forecast": lambda c: c.cost is not None,
    "scale_readiness": lambda c: c.scale is not None,
    "next_criteria": lambda c: c.to_stage not in (Stage.SCALE.value, Stage.STOPPED.value),
}


@dataclass(frozen=True)
class GatePlan:
    context: CheckContext
    target: Stage
    kinds: tuple[str, ...] = CHECK_KINDS
    #: The model version admitted into the current stage, carried forward when this
    #: gate's own evidence names none (e.g. Pilot → Production judges the pilot model).
    incumbent_model: tuple[str, str] | None = None

    @property
    def usecase_id(self) -> str:
        return self.context.usecase.id

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
) -> GatePlan:
    """Refuse illegal moves (skips, backward, from Stopped) before any check runs."""
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
    kinds = tuple(kind for kind in CHECK_KINDS if APPLIES[kind](criteria))
    return GatePlan(
        context=context, target=target, kinds=kinds, incumbent_model=_incumbent_model(state)
    )


def _incumbent_model(state: ChainState) -> tuple[str, str] | None:
    for entry in reversed(state.history):
        gate = entry.predicate.gate
        if gate is not None and gate.verdict == "pass":
            return (gate.model.name, gate.model.version) if gate.model else None
    return None


def run_check(plan: GatePlan, kind: str) -> list[CheckResult]:
    """Run one check kind; exceptions become ``error`` results naming what broke."""
    try:
        module = importlib.import_module(f"gates.checks.{kind}")
        results: list[CheckResult] = module.run(plan.context)
    except StagegateError as e:
        return [CheckResult(kind, kind, Status.ERROR, e.message)]
    except Exception as e:  # fail closed: a crashing check is an error, never a pass
        return [CheckResult(kind, kind, Status.ERROR, f"check crashed: {type(e).__name__}: {e}")]
    return list(results)


def conclude(plan: GatePlan, results: list[CheckResult]) -> GateEvaluation:
    flat = tuple(results)
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
) -> GateEvaluation:
    """Plan, run every check in-process and conclude: the library path without Prefect."""
    plan = plan_gate(workspace, state, usecase_id, target, now)
    results: list[CheckResult] = []
    for kind in plan.kinds:
        results.extend(run_check(plan, kind))
    return conclude(plan, results)
