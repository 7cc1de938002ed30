"""A small real workspace with real keys and a local store, for ledger tests."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gates.ledger.time_evidence import SIMULATED_NOTE
from gates.ledger.verify import VerificationReport
from gates.signing.keys import generate_keypair
from gates.signing.signers import Signer, load_signer
from gates.workspace.session import Session

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

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


@dataclass
class LedgerWorld:
    root: Path
    session: Session
    sponsor: Signer
    budget_owner: Signer
    outsider: Signer

    def reopen(self) -> Session:
        self.session = Session.open(self.root)
        return self.session

    def at(self, days: float) -> datetime:
        return T0 + timedelta(days=days)

    def approve_explore_exit(self, day: float = 9) -> None:
        """The sponsor and the budget owner sign off the move to PoC."""
        from gates.engine.actions import approve

        approve(
            self.session,
            "alpha",
            self.sponsor,
            role="sponsor",
            now=self.at(day),
        )
        approve(
            self.session,
            "alpha",
            self.budget_owner,
            role="budget_owner",
            now=self.at(day),
        )


def other_notes(report: VerificationReport) -> list[str]:
    """A report's notes but the simulated-time one every test workspace's ledger gets."""
    return [note for note in report.notes if not note.startswith(SIMULATED_NOTE)]


def build_workspace(root: Path) -> None:
    (root / "usecases").mkdir(parents=True)
    (root / "docs").mkdir()
    for name in ("candidates", "matrix", "rationale"):
        (root / "docs" / f"{name}.md").write_text(f"# {name}\nreal content\n")
    keys = root / "keys"
    for name in ("gate", "sponsor", "budget", "outsider"):
        generate_keypair(keys / f"{name}.pem")
    (root / "stagegate.toml").write_text(
        textwrap.dedent("""\
        [store]
        uri = "ledger"
        [signing]
        key = "file:keys/gate.pem"
        [clock]
        simulated = true
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
    """)
    )
    for uc, title in (("alpha", "Alpha assistant"), ("beta", "Beta classifier")):
        (root / "usecases" / f"{uc}.yaml").write_text(SPEC.format(id=uc, title=title))


@pytest.fixture
def world(tmp_path: Path) -> LedgerWorld:
    root = tmp_path / "ws"
    build_workspace(root)
    session = Session.open(root)
    return LedgerWorld(
        root=root,
        session=session,
        sponsor=load_signer("file:keys/sponsor.pem", root),
        budget_owner=load_signer("file:keys/budget.pem", root),
        outsider=load_signer("file:keys/outsider.pem", root),
    )
