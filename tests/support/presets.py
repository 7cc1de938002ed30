"""The starting workspaces test folders share: each is one ``World`` with a few options.

- ``ledger_world``: alpha and beta, unregistered; leaving Explore needs the sponsor's and
  the budget owner's sign-off, and their Explore deliverables exist.
- ``gate_world``: one use case registered (and approved) for its real Explore gate, with
  an MLflow model when asked (``model_gate_world``).
- ``recheck_world``: gates that check time boxes only, so use cases reach any stage fast,
  with production monitoring data, alert rules and operations documents.
- ``roadmap_world``: the ledger world on a calendar, with an operations lead's key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gates.engine.actions import register
from tests.support.settings import DEFAULTS, OPERATIONS_LEAD, SettingsOptions
from tests.support.world import T0, World

# --- alpha and beta ------------------------------------------------------------------

SPEC = """\
id: {id}
title: {title}
owner: owner@example.com
department: support
sponsors: [{{name: Dana Park, title: COO}}, {{name: Lee Moreau, title: CFO}}]
budgets: {{poc: 5000, pilot: 20000, production: 30000}}
criteria:
  poc:
    metrics: [{{metric: accuracy, op: ">=", value: 0.8}}]
evidence:
  deliverables:
    candidate_list: docs/candidates.md
    priority_matrix: docs/matrix.md
    selection_rationale: docs/rationale.md
"""
EXPLORE_DOCS = {f"docs/{name}.md": f"# {name}\nreal content\n" for name in ("candidates", "matrix", "rationale")}  # fmt: skip


def ledger_world(
    root: Path, *, settings: SettingsOptions = DEFAULTS, key_seed: int | None = None
) -> World:
    """alpha ("Alpha assistant") and beta ("Beta classifier") in a workspace on a folder store."""
    return World.create(
        root,
        settings=settings,
        usecases={
            "alpha": SPEC.format(id="alpha", title="Alpha assistant"),
            "beta": SPEC.format(id="beta", title="Beta classifier"),
        },
        files=EXPLORE_DOCS,
        key_seed=key_seed,
    )


def registered_ledger_world(root: Path) -> World:
    """``ledger_world`` with alpha registered and approved by its sponsor, beta registered:
    the small ledger the read-only commands are tried on."""
    world = ledger_world(root)
    world.register("alpha")
    world.approve("alpha", "sponsor", 0)
    world.register("beta")
    return world


# --- one use case at its Explore gate --------------------------------------------------

UC = "ticket-triage"
GATE_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: When every gate of a gate world is evaluated: a week into Explore, inside its time box.
GATE_TIME = GATE_T0 + timedelta(days=7)
DELIVERABLES = {
    "candidate_list": ("docs/candidates.md", "# Candidates\n1. ticket triage\n2. invoice OCR\n"),
    "priority_matrix": ("docs/priority-matrix.csv", "use_case,impact,feasibility\ntriage,3,4\n"),
    "selection_rationale": ("docs/rationale.md", "# Why triage\nmedium impact, clear metric\n"),
}


def gate_spec(
    *,
    explore: dict[str, Any] | None = None,
    model: str | None = None,
    metrics_experiment: str | None = None,
) -> dict[str, Any]:
    """A spec whose Explore exit criteria files alone can satisfy (plus signed approvals)."""
    spec: dict[str, Any] = {
        "id": UC,
        "title": "Ticket triage assistant",
        "owner": "mina@example.com",
        "department": "support",
        "sponsors": [{"name": "Dana Park", "title": "COO"}, {"name": "Ari Stone", "title": "CTO"}],
        "budgets": {"poc": 5000},
        # The PoC quality bar must exist before PoC starts (the next_criteria check).
        "criteria": {"poc": {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.85}]}},
        "evidence": {"deliverables": {name: path for name, (path, _) in DELIVERABLES.items()}},
    }
    if explore:
        spec["criteria"]["explore"] = explore
    if model:
        spec["model"] = {"name": model}
    if metrics_experiment:
        spec["evidence"]["metrics"] = {"explore": {"experiment": metrics_experiment}}
    return spec


def gate_world(
    root: Path,
    spec: dict[str, Any],
    *,
    tracking_uri: str | None = None,
    approvals: bool = True,
    settings_extra: str = "",
    store: str = "ledger",
) -> World:
    """``UC`` registered at ``GATE_T0`` (and its exit approved three days later, unless
    ``approvals`` is false), its gate service signing as ``gate-service``."""
    settings = SettingsOptions(
        store=store, actor="gate-service", mlflow_tracking_uri=tracking_uri, extra=settings_extra
    )
    world = World.create(
        root,
        t0=GATE_T0,
        settings=settings,
        usecases={UC: spec},
        files={path: text for path, text in DELIVERABLES.values()},
    )
    register(world.session, UC, now=GATE_T0)
    if approvals:
        approve_gate_exit(world)
    return world


def run_flow(world: World, to: str = "poc", **options: Any) -> Any:
    """The gate flow taking ``UC`` to ``to``, evaluated at ``GATE_TIME`` unless told."""
    options.setdefault("now", GATE_TIME.isoformat())
    return world.run_gate_flow(UC, to, **options)


def approve_gate_exit(world: World) -> None:
    """The sponsor and the budget owner sign off ``UC``'s move to PoC with their own keys."""
    world.approve(UC, "sponsor", 3)
    world.approve(UC, "budget_owner", 3, note="PoC budget approved")


def model_gate_world(
    root: Path, tracking_uri: str, alias: str, *, store: str = "ledger"
) -> tuple[World, str, str]:
    """Explore criteria with a metric bar and an alias, met by a registered model version;
    returns the world, the model's name and its version."""
    from gates.demo.mlflow_runs import log_run

    model = f"triage-{uuid.uuid4().hex[:8]}"
    _, version = log_run(
        tracking_uri, root.parent / "mlartifacts", model, {"accuracy": 0.91},
        GATE_T0 + timedelta(days=2), register_as=model,
    )  # fmt: skip
    assert version is not None
    explore = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.8}], "alias": alias}
    spec = gate_spec(explore=explore, model=model, metrics_experiment=model)
    return gate_world(root, spec, tracking_uri=tracking_uri, store=store), model, version


# --- use cases in production, re-checked -----------------------------------------------

RECHECK_T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

TIME_BOX_POLICY = """\
explore: {to_stage: poc, time_box: {planned_days: 14, max_days: 14}}
poc: {to_stage: pilot, time_box: {planned_days: 28, max_days: 42}}
pilot: {to_stage: production, time_box: {planned_days: 56, max_days: 90}}
production: {to_stage: scale, time_box: {planned_days: 90}}
"""

ALERT_RULES = """\
groups:
  - name: {uc}
    rules:
      - alert: LatencyHigh
        expr: histogram_quantile(0.95, rate(latency_bucket[5m])) > 1
        labels: {{covers: latency}}
      - alert: ErrorRateSpike
        expr: rate(errors[5m]) / rate(requests[5m]) > 0.01
        labels: {{covers: error_rate}}
      - alert: QualityDrop
        expr: quality_score < 0.95 * quality_target
        labels: {{covers: quality_drop}}
      - alert: CostAt80Percent
        expr: month_cost_forecast > 0.8 * budget
        labels: {{covers: cost_80}}
"""

PRODUCTION_SPEC = """\
id: {uc}
title: {uc} service
owner: owner@example.com
department: {department}
sponsors: [{{name: Dana Park}}, {{name: Lee Moreau}}]
budgets: {{explore: 1000, poc: 5000, pilot: 20000, production: 30000}}
pilot_group: {{early_adopters: true}}
recheck:
  production:
    health: {{quality: {{target: 0.9}}}}
evidence:
  datasets:
    monitoring: data/{uc}-monitoring.csv
  deliverables:
    runbook: docs/runbook.md
    incident_playbook: docs/incidents.md
    rollback_plan: docs/rollback.md
  monitoring:
    dataset: monitoring
    alert_rules: alerts/{uc}.yaml
"""


def recheck_world(root: Path) -> World:
    """No use case yet (``add_monitored`` adds them); a policy of time boxes only."""
    files = {f"docs/{name}.md": f"# {name}\nsteps\n" for name in ("runbook", "incidents", "rollback")}  # fmt: skip
    world = World.create(
        root,
        t0=RECHECK_T0,
        settings=SettingsOptions(policy="policy.yaml"),
        files={**files, "policy.yaml": TIME_BOX_POLICY},
    )
    for folder in ("data", "alerts"):
        (root / folder).mkdir(exist_ok=True)
    return world


def add_monitored(
    world: World, usecase: str, *, department: str = "support", spec: str = PRODUCTION_SPEC
) -> None:
    """A use case with alert rules; ``spec`` may use ``{uc}`` and ``{department}``."""
    text = spec.format(uc=usecase, department=department) if "{uc}" in spec else spec
    world.write(f"alerts/{usecase}.yaml", ALERT_RULES.format(uc=usecase))
    world.add_usecase(usecase, text)


# --- the roadmap's calendar ------------------------------------------------------------

#: The World's first day, a Monday; alpha's roadmap starts on it.
ROADMAP_START = T0.date()


def roadmap_world(root: Path) -> World:
    """The ledger world, plus an operations lead's key and a start date on alpha."""
    world = ledger_world(root, settings=SettingsOptions(extra_trusted=(OPERATIONS_LEAD,)))
    for usecase in ("alpha", "beta"):
        # These use cases leave Explore up to two weeks late, which the roadmap must show;
        # their locked hard maximum allows it, as an approved extension would.
        world.edit(
            f"usecases/{usecase}.yaml",
            "criteria:\n",
            "criteria:\n  explore:\n    time_box: {planned_days: 14, max_days: 28}\n",
        )
    world.append_spec("alpha", f"start_date: {ROADMAP_START.isoformat()}\n")
    return world
