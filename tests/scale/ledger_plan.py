"""A generation plan of use cases with known stage-entry times, written as a real signed ledger.

Each use case follows its plan through the real actions (``register``, ``approve``,
``decide``, ``record_gate``) with explicit times; gates are planned with ``plan_gate``
and judged by the real criteria-lock and cost-forecast check kinds (plus a failing
deliverable check for a blocked gate), so every entry is what the product itself would
sign and the whole ledger verifies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from gates.checks.registry import DEFAULT_CHECKS
from gates.engine.actions import approve, decide, record_gate, register
from gates.engine.gate import conclude, plan_gate, run_check
from gates.results import CheckResult, Status
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.settings import OPERATIONS_LEAD, SettingsOptions
from tests.support.world import World

#: The first day of the plan: the start of 2025Q3.
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
#: Nothing is written at or after this instant: the end of 2026Q4, six quarters later.
END = datetime(2027, 1, 1, tzinfo=UTC)
DEPARTMENTS = ("support", "finance", "sales", "legal", "hr", "ops", "marketing")
COMPONENTS = ("retriever", "ocr", "classifier", "prompt-lib", "eval-harness", "pii-filter")

#: Who must approve leaving each stage under the default policy: (role, key file).
APPROVERS = {
    Stage.EXPLORE: (("sponsor", "sponsor"), ("budget_owner", "budget")),
    Stage.POC: (("sponsor", "sponsor"),),
    Stage.PILOT: (("sponsor", "sponsor"), ("operations_lead", "ops")),
    Stage.PRODUCTION: (("sponsor", "sponsor"),),
}


@dataclass
class Step:
    """One planned action at ``time``: a gate (pass or blocked), a rollback or a no-go."""

    time: datetime
    action: str  # pass | blocked | rollback | no-go
    target: Stage | None = None


@dataclass
class UseCasePlan:
    id: str
    department: str
    components: tuple[str, ...]
    registered: datetime
    steps: list[Step] = field(default_factory=list)
    #: Monthly production cost the Pilot → Production gate forecasts (None: no cost check).
    monthly_cost: float | None = None

    def stage_changes(self) -> list[tuple[datetime, Stage]]:
        """Every stage entered, oldest first, as the plan says (registration included)."""
        changes = [(self.registered, Stage.EXPLORE)]
        for step in self.steps:
            if step.action in ("pass", "rollback") and step.target is not None:
                changes.append((step.time, step.target))
            elif step.action == "no-go":
                changes.append((step.time, Stage.STOPPED))
        return changes


@dataclass(frozen=True)
class Generated:
    """A workspace whose ledger was written from ``plans``."""

    root: Path
    plans: list[UseCasePlan]


def make_plan(count: int = 50, seed: int = 20261) -> list[UseCasePlan]:
    """``count`` use cases over six quarters (three of them on quarter boundaries);
    later ones adopt faster (reuse)."""
    rng = random.Random(seed)
    plans: list[UseCasePlan] = []
    for i in range(count - 3):
        # Later departments join later: the first four from the start, the rest over time.
        department = DEPARTMENTS[i % 4] if i < 20 else DEPARTMENTS[i % len(DEPARTMENTS)]
        day = int(i * 520 / count) + rng.randint(0, 9)
        registered = T0 + timedelta(days=day, minutes=i)
        components = tuple(sorted(rng.sample(COMPONENTS, rng.randint(0, 3))))
        plan = UseCasePlan(f"uc-{i:02d}", department, components, registered)
        _plan_steps(plan, i, count, rng)
        plans.append(plan)
    return plans + boundary_plans(count - 3)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def straight(uid: str, department: str, registered: str, production: str | None) -> UseCasePlan:
    """Explore → PoC → Pilot in three weeks, then Production on the given day (if any)."""
    reg = utc(registered)
    plan = UseCasePlan(uid, department, (), reg, monthly_cost=1500.0)
    if production is not None:
        plan.steps = [
            Step(reg + timedelta(days=7), "pass", Stage.POC),
            Step(reg + timedelta(days=21), "pass", Stage.PILOT),
            Step(utc(production), "pass", Stage.PRODUCTION),
        ]
    return plan


def boundary_plans(first: int) -> list[UseCasePlan]:
    """Stage entries a minute or an hour either side of quarter ends, where off-by-one hides."""
    late = UseCasePlan(f"uc-{first:02d}", "strategy", ("ocr",), utc("2026-03-31T23:59"))
    late.steps = [Step(utc("2026-04-20T10:00"), "pass", Stage.POC)]
    exact = UseCasePlan(f"uc-{first + 1:02d}", "research", ("retriever",), utc("2026-03-02T09:00"))
    exact.monthly_cost = 4321.0
    exact.steps = [
        Step(utc("2026-03-20T09:00"), "pass", Stage.POC),
        Step(utc("2026-05-01T09:00"), "pass", Stage.PILOT),
        Step(utc("2026-07-01T00:00"), "pass", Stage.PRODUCTION),  # the first instant of 2026Q3
    ]
    flip = UseCasePlan(f"uc-{first + 2:02d}", "audit", ("pii-filter",), utc("2026-04-06T09:00"))
    flip.monthly_cost = 1234.0
    flip.steps = [
        Step(utc("2026-04-20T09:00"), "pass", Stage.POC),
        Step(utc("2026-05-25T09:00"), "pass", Stage.PILOT),
        Step(utc("2026-08-03T09:00"), "pass", Stage.PRODUCTION),
        Step(utc("2026-09-30T23:00"), "rollback", Stage.PILOT),  # in Pilot at 2026Q3's end
        Step(utc("2026-10-01T01:00"), "pass", Stage.PRODUCTION),  # not a new arrival in 2026Q4
    ]
    return [late, exact, flip]


def _plan_steps(plan: UseCasePlan, i: int, count: int, rng: random.Random) -> None:
    speed = 1.0 - 0.45 * i / count  # reuse makes later use cases faster
    fate = rng.random()
    t = plan.registered

    def then(days: float, action: str, target: Stage | None = None) -> None:
        nonlocal t
        t = t + timedelta(days=days)
        if t < END:
            plan.steps.append(Step(t, action, target))

    then(round(12 * speed) + rng.randint(0, 2), "pass", Stage.POC)
    if fate < 0.12:
        then(20, "no-go")
        return
    if i % 5 == 0:
        then(round(20 * speed), "blocked", Stage.PILOT)
    then(round(30 * speed) + rng.randint(0, 5), "pass", Stage.PILOT)
    if fate < 0.2:
        then(30, "no-go")
        return
    plan.monthly_cost = None if i % 7 == 3 else float(1000 + 37 * i)
    then(round(60 * speed) + rng.randint(0, 10), "pass", Stage.PRODUCTION)
    if i % 9 == 4:
        then(20, "rollback", Stage.PILOT)
        then(15, "pass", Stage.PRODUCTION)
    elif i % 6 == 1:
        then(40, "pass", Stage.SCALE)


def spec_of(plan: UseCasePlan) -> dict[str, object]:
    criteria: dict[str, object] = {
        # Some planned stages run past the playbook's maximum: their locked criteria say so.
        "explore": {"time_box": {"planned_days": 14, "max_days": 30}},
        "poc": {
            "metrics": [{"metric": "accuracy", "op": ">=", "value": 0.8}],
            "time_box": {"planned_days": 28, "max_days": 60},
        },
    }
    unit: dict[str, object] = {"pilot": {"fixed_monthly": 2000.0}}
    criteria["pilot"] = {"time_box": {"planned_days": 56, "max_days": 200}}
    if plan.monthly_cost is None:
        criteria["pilot"] = {
            **criteria["pilot"],
            "cost": None,
        }  # no cost forecast at the Pilot gate
    else:
        unit["production"] = {"fixed_monthly": plan.monthly_cost}
    evidence = {"cost": {"unit": unit}}
    return {
        "id": plan.id,
        "title": f"Use case {plan.id}",
        "owner": "owner@example.com",
        "department": plan.department,
        "sponsors": [{"name": "Dana Park"}, {"name": "Lee Moreau"}],
        "budgets": {"poc": 5000, "pilot": 20000, "production": 100000},
        "components": list(plan.components),
        "criteria": criteria,
        "evidence": evidence,
    }


def plan_world(root: Path, plans: list[UseCasePlan]) -> World:
    """A workspace with a spec per plan, trusting an operations lead besides the gate,
    the sponsor and the budget owner."""
    return World.create(
        root,
        t0=T0,
        settings=SettingsOptions(extra_trusted=(OPERATIONS_LEAD,)),
        usecases={plan.id: yaml.safe_dump(spec_of(plan)) for plan in plans},
    )


def _gate(session: Session, usecase: str, target: Stage, when: datetime, blocked: bool) -> None:
    state = session.ledger.state(usecase)
    plan = plan_gate(session.workspace, state, usecase, target, when)
    results = run_check(plan, DEFAULT_CHECKS["criteria_lock"])
    if "cost_forecast" in plan.kinds:
        results += run_check(plan, DEFAULT_CHECKS["cost_forecast"])
    if blocked:
        results.append(
            CheckResult("deliverable:prototype", "deliverables", Status.FAIL, "prototype missing")
        )
    evaluation = conclude(plan, results)
    assert all(r.status is not Status.ERROR for r in results), results
    record_gate(session, state, evaluation)


def write_ledger(world: World, plans: list[UseCasePlan]) -> Session:
    """Write every plan through the real actions into the world's workspace."""
    session = world.session
    for plan in plans:
        register(session, plan.id, now=plan.registered)
        stage = Stage.EXPLORE
        for step in plan.steps:
            if step.action in ("pass", "blocked"):
                assert step.target is not None
                if step.action == "pass":
                    for role, key in APPROVERS[stage]:
                        approve(session, plan.id, world.signer(key), role=role,
                                now=step.time - timedelta(hours=1))  # fmt: skip
                _gate(session, plan.id, step.target, step.time, step.action == "blocked")
                if step.action == "pass":
                    stage = step.target
            elif step.action == "rollback":
                assert step.target is not None
                decide(session, plan.id, "rollback", reason="quality dropped", to=step.target,
                       now=step.time, sponsor=world.sponsor)  # fmt: skip
                stage = step.target
            else:
                decide(session, plan.id, "no-go", reason="not worth it", now=step.time,
                       sponsor=world.sponsor)  # fmt: skip
                stage = Stage.STOPPED
    return session
