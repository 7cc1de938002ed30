"""Flow tests run against one real Prefect API (the test harness) and real workspaces.

The harness starts a Prefect server on a temporary SQLite database; it takes seconds,
so one serves the whole session, and only the tests in this folder pay for it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gates.engine.actions import approve, register
from gates.ledger.replay import ChainState
from gates.signing.keys import generate_keypair
from gates.signing.signers import load_signer
from gates.workspace.session import Session

UC = "ticket-triage"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: When every gate in these tests is evaluated: a week into Explore, inside its time box.
GATE_TIME = T0 + timedelta(days=7)
DELIVERABLES = {
    "candidate_list": ("docs/candidates.md", "# Candidates\n1. ticket triage\n2. invoice OCR\n"),
    "priority_matrix": ("docs/priority-matrix.csv", "use_case,impact,feasibility\ntriage,3,4\n"),
    "selection_rationale": ("docs/rationale.md", "# Why triage\nmedium impact, clear metric\n"),
}

SETTINGS = """\
[store]
uri = "{store}"
[signing]
key = "file:keys/gate.pem"
actor = "gate-service"
[clock]
simulated = true
{mlflow}
[[trusted_keys]]
name = "gate"
path = "keys/gate.pub"
roles = ["gate"]
[[trusted_keys]]
name = "dana"
path = "keys/sponsor.pub"
roles = ["sponsor"]
[[trusted_keys]]
name = "lee"
path = "keys/budget.pub"
roles = ["budget_owner"]
"""


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield


def usecase_spec(
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


@dataclass
class GateWorld:
    """A registered, approved use case in a real workspace, ready for its Explore gate."""

    root: Path

    def session(self) -> Session:
        return Session.open(self.root)

    def state(self) -> ChainState:
        return self.session().ledger.state(UC)

    def run_flow(self, to: str = "poc", **options: Any) -> Any:
        from flows.gate_flow import gate_flow

        options.setdefault("now", GATE_TIME.isoformat())
        return asyncio.run(gate_flow(usecase=UC, to=to, workspace=str(self.root), **options))


def build_world(
    root: Path,
    spec: dict[str, Any],
    *,
    tracking_uri: str | None = None,
    approvals: bool = True,
    settings_extra: str = "",
    store: str = "ledger",
) -> GateWorld:
    (root / "usecases").mkdir(parents=True)
    for path, text in DELIVERABLES.values():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for name in ("gate", "sponsor", "budget"):
        generate_keypair(root / "keys" / f"{name}.pem")
    mlflow = f'[mlflow]\ntracking_uri = "{tracking_uri}"' if tracking_uri else ""
    (root / "stagegate.toml").write_text(
        SETTINGS.format(mlflow=mlflow, store=store) + settings_extra
    )
    (root / "usecases" / f"{UC}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    session = Session.open(root)
    register(session, UC, now=T0)
    if approvals:
        approve_explore_exit(root)
    return GateWorld(root)


def model_world(
    root: Path, tracking_uri: str, alias: str, *, store: str = "ledger"
) -> tuple[GateWorld, str, str]:
    """Explore criteria with a metric bar and an alias, met by a registered model version."""
    from gates.demo.mlflow_runs import log_run

    model = f"triage-{uuid.uuid4().hex[:8]}"
    _, version = log_run(
        tracking_uri, root.parent / "mlartifacts", model, {"accuracy": 0.91},
        T0 + timedelta(days=2), register_as=model,
    )  # fmt: skip
    assert version is not None
    explore = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.8}], "alias": alias}
    spec = usecase_spec(explore=explore, model=model, metrics_experiment=model)
    return build_world(root, spec, tracking_uri=tracking_uri, store=store), model, version


def approve_explore_exit(root: Path) -> None:
    """The sponsor and the budget owner sign off the move to PoC with their own keys."""
    session = Session.open(root)
    sponsor = load_signer("file:keys/sponsor.pem", root)
    budget_owner = load_signer("file:keys/budget.pem", root)
    approve(session, UC, sponsor, role="sponsor", now=T0 + timedelta(days=3))
    approve(
        session, UC, budget_owner, role="budget_owner",
        note="PoC budget approved", now=T0 + timedelta(days=3),
    )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> GateWorld:
    return build_world(tmp_path / "ws", usecase_spec())
