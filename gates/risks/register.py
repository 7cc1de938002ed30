"""Which of the playbook's known adoption risks a use case carries right now, and the cure.

The playbook names five risks with their mitigations: a sponsor leaving (have more than
one), schedule slips (hard deadlines), technical blockers (find them in PoC), user
resistance (start with early adopters) and cost overruns (per-stage budgets and cost
monitoring). Each rule below looks for the *missing mitigation* in declared facts: the
spec, the criteria locked in the verified chain, and (for blockers) the issue export.

Decisions:

- A stopped use case carries no risk: there is nothing left to mitigate.
- An unregistered use case has no stage yet; only the sponsor rule applies to it.
- Time boxes are read from the criteria *locked* when the stage started (amendments
  re-lock them): those are the criteria the gate enforces, whatever the spec says now.
- Explore needs no budget of its own: it is a one-to-two-week desk exercise whose exit
  gate already requires the PoC budget. From PoC on, the current stage and the next one
  must be budgeted. Scale is never required as a *next* stage (it spreads to new use
  cases, each with its own budgets); a use case in Scale still runs its production
  system, so its production budget is the one that holds spending.
- Cost monitoring is judged in Production and Scale (both run the production system).

Cheap on purpose (``stagegate status`` calls it for every use case): no Prefect, MLflow,
Great Expectations or pandas. Reading the issue export may raise ``EvidenceError``;
callers decide what an unreadable export means for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gates.ledger.replay import ChainState
from gates.stages import Stage, next_stage
from gates.workspace.loader import Workspace
from gates.workspace.usecase import UseCaseSpec

#: Every risk id, in the order risks are reported.
RISK_IDS: tuple[str, ...] = (
    "single-sponsor",
    "no-hard-deadline",
    "no-stage-budget",
    "no-cost-monitoring",
    "blockers-open-past-poc",
    "pilot-not-early-adopters",
)

#: Stages with a bounded length, where a missing hard maximum lets the schedule slip.
TIME_BOXED = (Stage.EXPLORE, Stage.POC, Stage.PILOT)
#: Stages that spend money stage by stage and so need their own budget.
BUDGETED = (Stage.POC, Stage.PILOT, Stage.PRODUCTION)
#: Stages running the production system.
OPERATED = (Stage.PRODUCTION, Stage.SCALE)
#: Stages past PoC, where technical blockers should long be gone and real users are involved.
PAST_POC = (Stage.PILOT, Stage.PRODUCTION, Stage.SCALE)


@dataclass(frozen=True)
class Risk:
    """One risk present in a use case: what it is, what was observed, how to mitigate it."""

    id: str
    title: str
    detail: str
    mitigation: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "detail": self.detail,
            "mitigation": self.mitigation,
        }


@dataclass(frozen=True)
class _Facts:
    workspace: Workspace
    spec: UseCaseSpec
    state: ChainState
    now: datetime

    @property
    def stage(self) -> Stage | None:
        return self.state.stage


def _single_sponsor(f: _Facts) -> Risk | None:
    sponsors = f.spec.sponsors
    if len(sponsors) >= 2:
        return None
    detail = f"1 sponsor ({sponsors[0].name})" if sponsors else "no sponsor named in the spec"
    return Risk(
        "single-sponsor",
        "Single sponsor",
        detail,
        "Secure a second sponsor and keep every sponsor informed with regular updates, "
        "so the use case does not stall when one of them leaves.",
    )


def _no_hard_deadline(f: _Facts) -> Risk | None:
    stage = f.stage
    if stage not in TIME_BOXED or f.state.lock is None:
        return None
    box: Any = f.state.lock.criteria.get("time_box") or {}
    if isinstance(box, dict) and box.get("max_days") is not None:
        return None
    planned = box.get("planned_days") if isinstance(box, dict) else None
    plan = f"planned {planned} days, " if planned is not None else ""
    return Risk(
        "no-hard-deadline",
        "No hard deadline",
        f"{stage.label} has no hard maximum ({plan}no time_box.max_days in the locked criteria)",
        "Set a hard maximum for the stage and keep a scope-cut option ready, so a slipping "
        "schedule forces a Go/No-Go decision instead of an endless stage.",
    )


def _stages_needing_budget(stage: Stage) -> list[Stage]:
    if stage is Stage.SCALE:
        return [Stage.PRODUCTION]
    if stage not in BUDGETED:
        return []
    after = next_stage(stage)
    return [s for s in (stage, after) if s in BUDGETED]


def _budget_role(stage: Stage, budgeted: Stage) -> str:
    if budgeted is stage:
        return "current stage"
    if budgeted is next_stage(stage):
        return "next stage"
    return "runs in production"


def _no_stage_budget(f: _Facts) -> Risk | None:
    if f.stage is None:
        return None
    needed = _stages_needing_budget(f.stage)
    missing = [s for s in needed if (f.spec.budget_for(s) or 0) <= 0]
    if not missing:
        return None
    parts = [f"{s.value} ({_budget_role(f.stage, s)})" for s in missing]
    declared = ", ".join(sorted(k for k, v in f.spec.budgets.items() if v > 0)) or "none"
    return Risk(
        "no-stage-budget",
        "No per-stage budget",
        f"no budget for {', '.join(parts)}; budgets set: {declared}",
        "Approve a budget for each stage before it starts (budgets.<stage> in the spec), "
        "so spending is held to it stage by stage.",
    )


def _no_cost_monitoring(f: _Facts) -> Risk | None:
    if f.stage not in OPERATED:
        return None
    evidence = f.spec.evidence
    if evidence.monitoring is not None:
        return None
    spend = evidence.cost.daily_spend.get(Stage.PRODUCTION.value)
    if spend:
        detail = (
            f"no evidence.monitoring; daily spend is recorded (dataset {spend!r}) but "
            "nothing watches it or alerts on it"
        )
    else:
        detail = "no evidence.monitoring and no production cost source"
    return Risk(
        "no-cost-monitoring",
        "No cost monitoring",
        detail,
        "Monitor daily and monthly cost in production and alert when spending reaches "
        "80% of the budget, so an overrun is seen before the bill arrives.",
    )


def _blockers_open_past_poc(f: _Facts) -> Risk | None:
    location = f.spec.evidence.issues
    if f.stage not in PAST_POC or location is None:
        return None
    from gates.evidence.issues import load_issues

    issues, _ = load_issues(f.workspace.evidence_path(location))
    blockers = [i for i in issues if i.is_open and i.kind == "blocker"]
    if not blockers:
        return None
    names = ", ".join(i.label() for i in blockers)
    return Risk(
        "blockers-open-past-poc",
        "Technical blockers open past PoC",
        f"{len(blockers)} open blocker(s) in {f.stage.label}: {names}",
        "Technical blockers belong in PoC: remove them or evaluate an alternative "
        "technology, and roll back to PoC if they cannot be removed.",
    )


def _pilot_not_early_adopters(f: _Facts) -> Risk | None:
    if f.stage not in PAST_POC:
        return None
    group = f.spec.pilot_group
    if group is not None and group.early_adopters:
        return None
    if group is None:
        detail = "no pilot_group declared: nobody knows who the pilot users are"
    else:
        described = f" ({group.description})" if group.description else ""
        detail = f"pilot group is not drawn from early adopters{described}"
    return Risk(
        "pilot-not-early-adopters",
        "Pilot group not early adopters",
        detail,
        "Start with early adopters who want the tool, then spread through their success "
        "stories; sceptical users first invite resistance.",
    )


_RULES: tuple[Callable[[_Facts], Risk | None], ...] = (
    _single_sponsor,
    _no_hard_deadline,
    _no_stage_budget,
    _no_cost_monitoring,
    _blockers_open_past_poc,
    _pilot_not_early_adopters,
)


def assess_risks(
    workspace: Workspace, spec: UseCaseSpec, state: ChainState, now: datetime
) -> list[Risk]:
    """The risks present in ``spec`` at ``state``, in ``RISK_IDS`` order (none when stopped)."""
    if state.stage is Stage.STOPPED:
        return []
    facts = _Facts(workspace, spec, state, now)
    return [risk for rule in _RULES if (risk := rule(facts)) is not None]
