"""Build the demo workspace: keys, settings, candidates, two use-case specs, documents and data.

Everything the settings file names is relative to the workspace folder, so the folder
can be copied or moved and still verifies.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

from gates.demo import data
from gates.errors import ConfigError
from gates.signing.keys import generate_keypair

#: Demo people and the roles their keys are trusted for.
#: Key file name → (the name the ledger records for that key, its roles).
PEOPLE = {
    "gate": ("stagegate gate service", ["gate"]),
    "dana": ("Dana Park", ["sponsor"]),
    "ravi": ("Ravi Shah", ["sponsor"]),
    "lee": ("Lee Moreau", ["budget_owner"]),
    "sam": ("Sam Okafor", ["operations_lead"]),
}

SUPPORT_BOT = """\
id: support-bot
title: Customer support assistant
owner: mina.cho@example.com
department: customer-care
sponsors:
  - {name: Dana Park, title: COO}
  - {name: Ravi Shah, title: VP Customer Care}
start_date: %(start)s
currency: USD
budgets: {poc: 3000, pilot: 12000, production: 80000}   # monthly, per stage
criteria:
  poc:
    metrics:                          # the PoC quality bar, defined before the PoC starts
      - {metric: accuracy, op: ">=", value: 0.85}
      - {metric: latency_p95_ms, op: "<=", value: 2000}
model: {name: support-bot}
pilot_group: {early_adopters: true, description: 30 volunteer agents from two teams}
recheck:
  production:
    health:
      quality: {target: 0.88}          # the accuracy the PoC proved; -5%% is the floor
      latency_ms: {p50: 800, p95: 2000, p99: 3000}
evidence:
  monitoring:
    experiment: support-bot-monitoring   # one MLflow run per day from the monitoring job
    alert_rules: ops/alert-rules.yaml
  datasets:
    test_set: data/poc_test_set.csv
    feedback: data/pilot_feedback.csv
    operations: data/pilot_operations.csv
    pilot_cost: data/pilot_daily_cost.csv
  metrics:
    poc: {experiment: support-bot-poc}
    production: {experiment: support-bot-monitoring}
  cost:
    daily_spend: {pilot: pilot_cost}     # spend observed during the pilot
    users: {pilot: 30, production: 400}
    unit:
      pilot: {users: 30, cost_per_user: 40, requests_per_month: 30000, cost_per_request: 0.05, fixed_monthly: 2000}
  pilot:
    feedback: feedback
    kpi: {name: average handle time (min), baseline: 12.0, direction: lower, dataset: operations, column: handle_time_min}
  issues: data/issues.csv
  deliverables:
    candidate_list: explore/candidates.yaml
    priority_matrix: docs/explore/priority-matrix.svg
    selection_rationale: docs/explore/selection-rationale.md
    technical_report: docs/poc/technical-report.md
    prototype: docs/poc/prototype.md
    quality_measurements: docs/poc/quality-measurements.md
    pilot_proposal: docs/poc/pilot-proposal.md
    pilot_report: docs/pilot/pilot-report.md
    satisfaction_survey: docs/pilot/satisfaction-survey.md
    operating_cost_analysis: docs/pilot/operating-cost.md
    production_migration_plan: docs/pilot/migration-plan.md
    runbook: docs/production/runbook.md
    incident_playbook: docs/production/incident-playbook.md
    rollback_plan: docs/production/rollback-plan.md
"""

#: The production alerting rules (Prometheus format); ``labels.covers`` says which of the
#: playbook's four alerts each rule is.
ALERT_RULES = """\
groups:
  - name: support-bot
    rules:
      - alert: SupportBotLatencyHigh
        expr: histogram_quantile(0.95, sum(rate(answer_latency_seconds_bucket[5m])) by (le)) > 2
        for: 10m
        labels: {severity: page, covers: latency}
      - alert: SupportBotErrorRateSpike
        expr: sum(rate(answer_errors_total[5m])) / sum(rate(answers_total[5m])) > 0.01
        for: 5m
        labels: {severity: page, covers: error_rate}
      - alert: SupportBotQualityDrop
        expr: avg_over_time(answer_quality_score[1d]) < 0.95 * 0.88
        labels: {severity: ticket, covers: quality_drop}
      - alert: SupportBotCostAt80Percent
        expr: month_cost_forecast_usd > 0.8 * 80000
        labels: {severity: ticket, covers: cost_80}
"""

INVOICE_OCR = """\
id: invoice-ocr
title: Invoice data extraction
owner: tomas.berg@example.com
department: finance
sponsors:
  - {name: Dana Park, title: COO}
start_date: %(start)s
currency: USD
budgets: {poc: 4000, pilot: 15000}
criteria:
  poc:
    metrics:
      - {metric: field_accuracy, op: ">=", value: 0.95}
model: {name: invoice-ocr}
evidence:
  datasets:
    test_set: data/invoice_test_set.csv
  metrics:
    poc: {experiment: invoice-ocr-poc}
  cost:
    unit:
      pilot: {requests_per_month: 20000, cost_per_request: 0.12, fixed_monthly: 1500}
  issues: data/invoice_issues.csv
  deliverables:
    candidate_list: explore/candidates.yaml
    priority_matrix: docs/explore/priority-matrix.svg
    selection_rationale: docs/explore/invoice-rationale.md
    technical_report: docs/invoice/technical-report.md
    prototype: docs/invoice/prototype.md
    quality_measurements: docs/invoice/quality-measurements.md
    pilot_proposal: docs/invoice/pilot-proposal.md
"""


#: Explore's candidates: five ideas rated on the playbook's selection criteria.
CANDIDATES = """\
# Use-case candidates for Explore (stagegate explore score). Levels:
#   impact, complexity: low | medium | high | very_high
#   data: structured_accessible | structured_restricted | unstructured | scattered | unavailable
#   measurability: clear_metric | proxy_metric | subjective | none
#   stakeholders: cooperative | neutral | resistant
candidates:
  - id: support-bot
    title: Customer support assistant
    department: customer-care
    owner: mina.cho@example.com
    sponsors: ["Dana Park (COO)", "Ravi Shah (VP Customer Care)"]
    impact: medium
    complexity: low
    data: structured_accessible
    measurability: clear_metric
    stakeholders: cooperative
    notes: Answers from the help centre; average handle time is tracked today.
  - id: invoice-ocr
    title: Invoice data extraction
    department: finance
    owner: tomas.berg@example.com
    sponsors: ["Dana Park (COO)"]
    impact: medium
    complexity: medium
    data: unstructured
    measurability: clear_metric
    stakeholders: cooperative
    notes: Scanned PDFs; field accuracy is easy to measure against booked invoices.
  - id: contract-search
    title: Contract clause search
    department: legal
    owner: ines.alves@example.com
    impact: high
    complexity: high
    data: scattered
    measurability: proxy_metric
    stakeholders: neutral
  - id: demand-forecast
    title: Demand forecasting
    department: supply-chain
    owner: kofi.mensah@example.com
    sponsors: ["Lee Moreau (CFO)"]
    impact: very_high
    complexity: high
    data: structured_restricted
    measurability: clear_metric
    stakeholders: cooperative
    notes: Every planning decision would hang on it.
  - id: cv-screening
    title: CV pre-screening
    department: people
    owner: olga.ivanova@example.com
    impact: high
    complexity: medium
    data: unstructured
    measurability: subjective
    stakeholders: resistant
"""


def settings_text(store: str) -> str:
    keys = "\n".join(
        f'[[trusted_keys]]\nname = "{person}"\npath = "keys/{name}.pub"\nroles = {roles!r}\n'.replace(
            "'", '"'
        )
        for name, (person, roles) in PEOPLE.items()
    )
    return (
        textwrap.dedent(f"""\
        # stagegate demo workspace. Paths are relative to this folder.
        [store]
        uri = "{store}"

        [mlflow]
        tracking_uri = "sqlite:///mlflow.db"

        [signing]
        key = "file:keys/gate.pem"
        actor = "stagegate-demo"

        # The demo plays about four months in a few seconds: its entries record the
        # scenario's calendar, and each says so ("simulated time: timings are not evidence").
        [clock]
        simulated = true

        """)
        + keys
    )


def build(root: Path, start: datetime, store: str = "ledger") -> None:
    """Write the workspace files. Refuses a folder that already has content."""
    if root.exists() and any(root.iterdir()):
        raise ConfigError(str(root), ["demo folder is not empty; choose a new folder"])
    root.mkdir(parents=True, exist_ok=True)
    for name in PEOPLE:
        generate_keypair(root / "keys" / f"{name}.pem")
    (root / "stagegate.toml").write_text(settings_text(store), encoding="utf-8")
    (root / "usecases").mkdir()
    values = {"start": start.date().isoformat()}
    (root / "usecases" / "support-bot.yaml").write_text(SUPPORT_BOT % values, encoding="utf-8")
    (root / "usecases" / "invoice-ocr.yaml").write_text(INVOICE_OCR % values, encoding="utf-8")
    (root / "ops").mkdir()
    (root / "ops" / "alert-rules.yaml").write_text(ALERT_RULES, encoding="utf-8")
    (root / "explore").mkdir()
    (root / "explore" / "candidates.yaml").write_text(CANDIDATES, encoding="utf-8")
    _documents(root)
    data.poc_test_set(root / "data" / "poc_test_set.csv", rows=80)
    data.poc_test_set(root / "data" / "invoice_test_set.csv", rows=60, seed=3)
    data.issues(
        root / "data" / "issues.csv",
        [
            ["SB-12", "Answers in Korean fall back to English", "issue", "minor", "open"],
            ["SB-7", "Order API rate limit blocks look-ups", "blocker", "major", "closed"],
        ],
    )
    data.issues(
        root / "data" / "invoice_issues.csv",
        [
            [
                "IO-3",
                "Handwritten invoices are unreadable by the OCR model",
                "blocker",
                "critical",
                "open",
            ],
        ],
    )


def write_pilot_operations(root: Path, pilot_start: datetime, days: int) -> None:
    """Operational data and daily spend exist only once the pilot runs on real traffic."""
    data.operations(root / "data" / "pilot_operations.csv", pilot_start, days=days)
    data.daily_cost(root / "data" / "pilot_daily_cost.csv", pilot_start, days=days, mean=165.0)


def write_feedback(root: Path, pilot_start: datetime, weeks: int, means: list[float]) -> None:
    data.pilot_feedback(
        root / "data" / "pilot_feedback.csv", pilot_start, weeks=weeks, users=30, means=means
    )


def _documents(root: Path) -> None:
    docs = {
        "explore/priority-matrix.md": (
            "Priority matrix (impact × feasibility)",
            "Drawn from explore/candidates.yaml by `stagegate explore score --matrix`: "
            "see priority-matrix.svg beside this file.",
        ),
        "explore/selection-rationale.md": (
            "Why the support assistant",
            "Medium impact, clear metric (handle time), structured FAQ data, cooperative team.",
        ),
        "explore/invoice-rationale.md": (
            "Why invoice extraction",
            "Medium impact, measurable field accuracy, finance team eager to try.",
        ),
        "poc/technical-report.md": (
            "PoC technical report",
            "Retrieval-augmented answers over the help centre; no blocker left open.",
        ),
        "poc/prototype.md": (
            "Prototype",
            "Demo at https://support-bot.internal.example/poc (recorded walkthrough attached).",
        ),
        "poc/quality-measurements.md": (
            "Quality measurements",
            "Accuracy and P95 latency on the 80-item test set, tracked in MLflow.",
        ),
        "poc/pilot-proposal.md": (
            "Pilot proposal",
            "30 early-adopter agents for 8 weeks; weekly survey; exit if satisfaction < 4.0.",
        ),
        "pilot/pilot-report.md": (
            "Pilot report",
            "8 weeks, 30 agents, handle time down from 12.0 to 8.9 minutes.",
        ),
        "pilot/satisfaction-survey.md": (
            "Satisfaction survey",
            "Weekly 1–5 survey of pilot agents; results in data/pilot_feedback.csv.",
        ),
        "pilot/operating-cost.md": (
            "Operating cost analysis",
            "Run-rate from daily spend, scaled from 30 to 400 agents.",
        ),
        "pilot/migration-plan.md": (
            "Production migration plan",
            "Staged roll-out by team; rollback to the pilot alias on alert.",
        ),
        "production/runbook.md": (
            "Runbook",
            "Dashboards, on-call rota, how to restart the answer service and re-index the help centre.",
        ),
        "production/incident-playbook.md": (
            "Incident playbook",
            "Severities, who to page, customer messaging, post-incident review within 5 days.",
        ),
        "production/rollback-plan.md": (
            "Rollback plan",
            "Point the production alias back at the pilot model version; agents fall back to macros.",
        ),
        "invoice/technical-report.md": (
            "Invoice PoC technical report",
            "Printed invoices work; handwritten ones are an open blocker.",
        ),
        "invoice/prototype.md": ("Invoice prototype", "Batch extraction notebook."),
        "invoice/quality-measurements.md": ("Invoice quality", "Field accuracy on 60 invoices."),
        "invoice/pilot-proposal.md": ("Invoice pilot proposal", "Accounts-payable team, 4 weeks."),
    }
    for rel, (title, body) in docs.items():
        data.document(root / "docs" / rel, title, body)


def monitoring_day(n: int) -> dict[str, float]:
    """One day of production monitoring for support-bot (deterministic, healthy, costly)."""
    wobble = ((n * 7) % 5 - 2) / 10_000
    return {
        "availability": 0.9994 + wobble,
        "latency_p50_ms": 610 + (n % 4) * 15,
        "latency_p95_ms": 1380 + (n % 3) * 20,
        "latency_p99_ms": 2300 + (n % 5) * 30,
        "error_rate": 0.004 + wobble / 10,
        "quality_score": 0.87,
        "quality_vs_target": -0.011,
        "cost": 2200 + (n % 3) * 40,
        "major_incidents": 0,
        "requests": 12_000 + n * 10,
    }
