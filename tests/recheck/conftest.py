"""A workspace whose gates are cheap (time boxes only), so use cases reach any stage fast,
with production monitoring data, alert rules and operations documents on disk."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gates.engine.actions import decide, promote, register
from gates.ledger.entry import Entry
from gates.signing.keys import generate_keypair
from gates.signing.signers import load_signer
from gates.stages import Stage
from gates.workspace.session import Session

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

POLICY = """\
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

SPEC = """\
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


@dataclass
class RecheckWorld:
    root: Path
    session: Session

    def at(self, days: float) -> datetime:
        return T0 + timedelta(days=days)

    def add(self, uc: str, *, department: str = "support", spec: str = SPEC) -> None:
        text = spec.format(uc=uc, department=department) if "{uc}" in spec else spec
        (self.root / "usecases" / f"{uc}.yaml").write_text(text)
        (self.root / "alerts" / f"{uc}.yaml").write_text(ALERT_RULES.format(uc=uc))
        self.session = Session.open(self.root)

    def advance(self, uc: str, stage: Stage, start_day: float = 0) -> float:
        """Register ``uc`` and pass each gate up to ``stage``; return the day it got there."""
        register(self.session, uc, now=self.at(start_day))
        day = start_day
        order = [Stage.POC, Stage.PILOT, Stage.PRODUCTION, Stage.SCALE]
        for target in order[: order.index(stage) + 1] if stage is not Stage.EXPLORE else []:
            day += 10
            outcome = promote(self.session, uc, target, now=self.at(day))
            assert outcome.promoted, [r.reason for r in outcome.evaluation.failing]
        return day

    def no_go(self, uc: str, day: float, reason: str = "not feasible") -> Entry:
        """The sponsor signs a No-Go with her own key; the gate records it."""
        sponsor = load_signer("file:keys/sponsor.pem", self.root)
        return decide(self.session, uc, "no-go", reason=reason, now=self.at(day), sponsor=sponsor)

    def monitoring(
        self,
        uc: str,
        end: datetime,
        days: int = 30,
        *,
        availability: float = 0.9995,
        daily_cost: float = 600.0,
        quality: float = 0.9,
        error_rate: float = 0.002,
        p95: float = 700.0,
        incidents: int = 0,
        last: Callable[[dict[str, object]], None] | None = None,
    ) -> None:
        """Write ``days`` daily rows ending at ``end``; ``last`` edits the newest row."""
        rows = []
        for i in range(days):
            day = (end - timedelta(days=days - 1 - i)).date()
            rows.append(
                {
                    "date": day.isoformat(),
                    "availability": availability,
                    "latency_p50_ms": 200.0,
                    "latency_p95_ms": p95,
                    "latency_p99_ms": 1500.0,
                    "error_rate": error_rate,
                    "quality_score": quality,
                    "cost": daily_cost,
                    "major_incidents": 0,
                    "requests": 10000,
                }
            )
        rows[-1]["major_incidents"] = incidents
        if last is not None:
            last(rows[-1])
        path = self.root / "data" / f"{uc}-monitoring.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def build_recheck_workspace(root: Path) -> None:
    for folder in ("usecases", "docs", "data", "alerts"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in ("runbook", "incidents", "rollback"):
        (root / "docs" / f"{name}.md").write_text(f"# {name}\nsteps\n")
    (root / "policy.yaml").write_text(POLICY)
    generate_keypair(root / "keys" / "gate.pem")
    generate_keypair(root / "keys" / "sponsor.pem")
    (root / "stagegate.toml").write_text(
        textwrap.dedent("""\
        [store]
        uri = "ledger"
        [policy]
        path = "policy.yaml"
        [signing]
        key = "file:keys/gate.pem"
        [clock]
        simulated = true
        [[trusted_keys]]
        name = "gate"
        path = "keys/gate.pub"
        roles = ["gate"]
        [[trusted_keys]]
        name = "Dana Park"
        path = "keys/sponsor.pub"
        roles = ["sponsor"]
        """)
    )


@pytest.fixture
def rworld(tmp_path: Path) -> RecheckWorld:
    root = tmp_path / "ws"
    build_recheck_workspace(root)
    return RecheckWorld(root, Session.open(root))
