"""A real workspace whose use cases walk the roadmap on a chosen calendar.

Stage moves are signed entries in a real local ledger: Explore → PoC through the real
gate, later gates signed like the gate service signs them (with the approvals their
locked criteria require), decisions and re-checks as the engine records them.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gates.canonical import digest_of
from gates.engine.actions import approve, decide, promote, register
from gates.ledger.entry import Entry
from gates.policy.effective import criteria_digest
from gates.signing.keys import generate_keypair
from gates.signing.signers import Signer, load_signer
from gates.stages import Stage, next_stage
from gates.workspace.session import Session
from tests.ledger.conftest import build_workspace

#: A Monday; the roadmap of the use cases below starts on it.
START = date(2026, 1, 5)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

OPS_KEY = """
[[trusted_keys]]
name = "ops"
path = "keys/ops.pub"
roles = ["operations_lead"]
"""


@dataclass
class RoadmapWorld:
    root: Path
    session: Session
    approvers: dict[str, tuple[Signer, str]]

    def at(self, days: float) -> datetime:
        return T0 + timedelta(days=days)

    def reopen(self) -> Session:
        self.session = Session.open(self.root)
        return self.session

    def set_spec(self, usecase: str, extra: str) -> None:
        """Append YAML to a use case's spec (e.g. ``start_date`` or a ``roadmap`` block)."""
        path = self.root / "usecases" / f"{usecase}.yaml"
        path.write_text(path.read_text() + textwrap.dedent(extra))
        self.reopen()

    def register(self, usecase: str, day: float) -> Entry:
        return register(self.session, usecase, now=self.at(day))

    def to_poc(self, usecase: str, day: float) -> Entry:
        """The real Explore → PoC gate, after the sponsor and budget owner sign off."""
        self._approve_all(usecase, day)
        outcome = promote(self.session, usecase, Stage.POC, now=self.at(day))
        assert outcome.promoted, [r for r in outcome.evaluation.results if r.status.blocks]
        return outcome.entry

    def pass_gate(self, usecase: str, day: float) -> Entry:
        """A passing gate to the next stage, signed by the gate key, citing its approvals."""
        cited = self._approve_all(usecase, day)
        state = self.session.ledger.state(usecase)
        assert state.stage is not None and state.lock is not None
        target = next_stage(state.stage)
        assert target is not None
        records: dict[str, Any] = {
            "gate": {
                "from": state.stage.value,
                "to": target.value,
                "verdict": "pass",
                "criteriaDigest": state.lock.digest,
                "checks": [
                    {"check": "time-box", "kind": "timebox", "status": "pass", "reason": "ok"}
                ],
                "approvals": cited,
            }
        }
        if target is not Stage.SCALE:
            records["lock"] = self._lock(usecase, target)
        return self._append(usecase, "gate", target, day, records)

    def blocked_gate(self, usecase: str, day: float) -> Entry:
        state = self.session.ledger.state(usecase)
        assert state.stage is not None and state.lock is not None
        target = next_stage(state.stage)
        assert target is not None
        record = {
            "from": state.stage.value,
            "to": target.value,
            "verdict": "blocked",
            "criteriaDigest": state.lock.digest,
            "checks": [{"check": "metric:x", "kind": "metric", "status": "fail", "reason": "low"}],
        }
        return self._append(usecase, "gate", state.stage, day, {"gate": record})

    def recheck(self, usecase: str, day: float, verdict: str = "ok") -> Entry:
        state = self.session.ledger.state(usecase)
        assert state.stage is not None
        record = {
            "stage": state.stage.value,
            "verdict": verdict,
            "policyDigest": digest_of({"recheck": "policy"}),
            "checks": [{"check": "slo", "kind": "slo", "status": "pass", "reason": "healthy"}],
        }
        return self._append(usecase, "recheck", state.stage, day, {"recheck": record})

    def no_go(self, usecase: str, day: float) -> Entry:
        return decide(
            self.session, usecase, "no-go", reason="not feasible", now=self.at(day),
            sponsor=self.approvers["sponsor"][0],
        )  # fmt: skip

    def rollback(self, usecase: str, to: Stage, day: float) -> Entry:
        return decide(
            self.session, usecase, "rollback", reason="incidents", to=to, now=self.at(day),
            sponsor=self.approvers["sponsor"][0],
        )  # fmt: skip

    def _approve_all(self, usecase: str, day: float) -> list[int]:
        state = self.session.ledger.state(usecase)
        assert state.lock is not None
        required = state.lock.criteria.get("approvals", {})
        cited = []
        for role in sorted(required):
            signer, _name = self.approvers[role]
            entry = approve(self.session, usecase, signer, role=role, now=self.at(day))
            cited.append(entry.sequence)
        return cited

    def _lock(self, usecase: str, stage: Stage) -> dict[str, Any]:
        workspace = self.session.workspace
        criteria = workspace.criteria(workspace.usecase(usecase), stage)
        return {
            "stage": stage.value,
            "digest": criteria_digest(criteria),
            "criteria": criteria.model_dump(mode="json"),
        }

    def _append(
        self, usecase: str, kind: Any, after: Stage, day: float, records: dict[str, Any]
    ) -> Entry:
        state = self.session.ledger.state(usecase)
        return self.session.ledger.append(
            state,
            self.session.signer,
            kind=kind,
            after=after,
            actor="stagegate-gate",
            time=self.at(day),
            records=records,
        )


def build_roadmap_workspace(root: Path) -> None:
    """The ledger tests' workspace, plus an operations lead's key and a start date on alpha."""
    build_workspace(root)
    generate_keypair(root / "keys" / "ops.pem")
    settings = root / "stagegate.toml"
    settings.write_text(settings.read_text() + OPS_KEY)
    for spec in (root / "usecases").glob("*.yaml"):
        # These use cases leave Explore up to two weeks late, which the roadmap must show;
        # their locked hard maximum allows it, as an approved extension would.
        spec.write_text(
            spec.read_text().replace(
                "criteria:\n",
                "criteria:\n  explore:\n    time_box: {planned_days: 14, max_days: 28}\n",
            )
        )
    alpha = root / "usecases" / "alpha.yaml"
    alpha.write_text(alpha.read_text() + f"start_date: {START.isoformat()}\n")


@pytest.fixture
def rw(tmp_path: Path) -> RoadmapWorld:
    root = tmp_path / "ws"
    build_roadmap_workspace(root)
    return RoadmapWorld(
        root=root,
        session=Session.open(root),
        approvers={
            "sponsor": (load_signer("file:keys/sponsor.pem", root), "Dana Park"),
            "budget_owner": (load_signer("file:keys/budget.pem", root), "Lee Moreau"),
            "operations_lead": (load_signer("file:keys/ops.pem", root), "Sam Ortiz"),
        },
    )
