"""Write a new workspace into an empty folder, from the templates beside this module."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from gates.errors import ConfigError
from gates.schemas import SETTINGS_SCHEMA_FILE, USECASE_SCHEMA_FILE, committed_bytes
from gates.signing.keys import generate_keypair
from gates.workspace.settings import SETTINGS_FILE
from gates.workspace.usecase import USECASE_ID

#: The use case a plain ``init`` writes, and the richer one of ``init --example``.
FIRST_USECASE = "my-use-case"
EXAMPLE_USECASE = "support-assistant"
SCHEMAS_DIR = "schemas"
TEMPLATES_DIR = "templates"

#: Key file (under keys/) → the name the ledger records for that key, and its roles.
KEYS = {
    "gate": ("gate service", ["gate"]),
    "sponsor": ("Example Sponsor", ["sponsor"]),
    "budget-owner": ("Example Budget Owner", ["budget_owner"]),
    "operations-lead": ("Example Operations Lead", ["operations_lead"]),
}

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Created:
    """What ``create_workspace`` wrote, for the command to tell."""

    root: Path
    usecase: str
    example: bool
    files: tuple[Path, ...] = field(default=())


def create_workspace(
    root: Path,
    *,
    usecase: str | None = None,
    example: bool = False,
    today: datetime | None = None,
) -> Created:
    """Write settings, keys, schemas, the use-case template and a first use case.

    Refuses a folder that is not empty (nothing is written then). With ``example`` the
    use case has evidence for every stage and the files it names are written too.
    """
    usecase = usecase or (EXAMPLE_USECASE if example else FIRST_USECASE)
    if not USECASE_ID.fullmatch(usecase):
        raise ConfigError(
            "--usecase", [f"{usecase!r}: use-case ids are lower-case letters, digits and '-'"]
        )
    if root.exists() and not root.is_dir():
        raise ConfigError(str(root), ["exists and is not a folder"])
    if root.exists() and any(root.iterdir()):
        raise ConfigError(
            str(root),
            [
                "folder is not empty; `stagegate init` makes a new workspace in an empty or new folder"
            ],
        )
    today = (today or datetime.now(UTC)).astimezone(UTC)
    values = {
        "id": usecase,
        "title": _title(usecase, example),
        "start_date": today.date().isoformat(),
    }
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(relative: str, text: str | bytes) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        written.append(path)

    blocks = []
    for stem, (name, roles) in KEYS.items():
        generate_keypair(root / "keys" / f"{stem}.pem")
        blocks.append(trusted_keys_block(name, f"keys/{stem}.pub", roles))
    written.append(root / "keys")
    write(SETTINGS_FILE, render("stagegate.toml", trusted_keys="\n".join(blocks)))
    write(".gitignore", render("gitignore"))
    for name in (SETTINGS_SCHEMA_FILE, USECASE_SCHEMA_FILE):
        write(f"{SCHEMAS_DIR}/{name}", committed_bytes(name))
    write(f"{TEMPLATES_DIR}/usecase.yaml", render("usecase.yaml", **values))
    spec = render("usecase.yaml" if example else "usecase-first.yaml", **values)
    write(f"usecases/{usecase}.yaml", spec)
    if example:
        _example_evidence(root, usecase, today)
    return Created(root, usecase, example, tuple(written))


def trusted_keys_block(name: str, path: str, roles: list[str]) -> str:
    """A ``[[trusted_keys]]`` block for ``stagegate.toml``, values quoted as TOML strings."""
    listed = ", ".join(json.dumps(role) for role in roles)
    return f"[[trusted_keys]]\nname = {json.dumps(name)}\npath = {json.dumps(path)}\nroles = [{listed}]\n"


def render(template: str, **values: str) -> str:
    """A template with its ``{{name}}`` placeholders filled; every one must be given."""
    text = resources.files("gates.scaffold").joinpath(TEMPLATES_DIR, template).read_text("utf-8")

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(fill, text)


def _title(usecase: str, example: bool) -> str:
    if example and usecase == EXAMPLE_USECASE:
        return "Customer support assistant"
    return usecase.replace("-", " ").capitalize()


#: The example's documents: path under docs/ → (title, body).
_DOCUMENTS = {
    "explore/candidate-list.md": (
        "Candidate list",
        "Five ideas from the departments, rated on impact, complexity, data, measurability "
        "and stakeholders (`stagegate explore score` ranks a candidates file).",
    ),
    "explore/priority-matrix.md": (
        "Priority matrix (impact × feasibility)",
        "The support assistant is a quick win: medium impact, low complexity.",
    ),
    "explore/selection-rationale.md": (
        "Why the support assistant",
        "Medium impact, a clear metric (handle time), structured help-centre data and a "
        "cooperative team.",
    ),
    "poc/technical-report.md": ("PoC technical report", "Retrieval over the help centre."),
    "poc/prototype.md": ("Prototype", "A recorded walkthrough of the demo-able prototype."),
    "poc/quality-measurements.md": (
        "Quality measurements",
        "Accuracy and P95 latency on the test set, logged to MLflow.",
    ),
    "poc/pilot-proposal.md": ("Pilot proposal", "30 early-adopter agents for 8 weeks."),
    "pilot/pilot-report.md": ("Pilot report", "8 weeks, 30 agents."),
    "pilot/satisfaction-survey.md": ("Satisfaction survey", "Weekly 1–5 survey of the agents."),
    "pilot/operating-cost-analysis.md": ("Operating cost analysis", "Run-rate from daily spend."),
    "pilot/production-migration-plan.md": ("Production migration plan", "Roll out by team."),
    "production/monitoring-dashboard.md": (
        "Monitoring dashboard",
        "Latency, errors, quality, cost.",
    ),
    "production/runbook.md": ("Runbook", "On-call rota; how to restart and re-index."),
    "production/incident-playbook.md": ("Incident playbook", "Severities, who to page."),
    "production/rollback-plan.md": ("Rollback plan", "Point the production alias back."),
    "production/monthly-report.md": ("Monthly report", "Health, incidents, cost against budget."),
}


def _example_evidence(root: Path, usecase: str, today: datetime) -> None:
    """The files the example spec names: documents, datasets, issues and alert rules."""
    from gates.demo import data

    for relative, (title, body) in _DOCUMENTS.items():
        data.document(root / "docs" / relative, title, body)
    pilot_start = today - timedelta(days=56)
    data.poc_test_set(root / "data" / "poc_test_set.csv", rows=80)
    data.pilot_feedback(
        root / "data" / "pilot_feedback.csv",
        pilot_start,
        weeks=8,
        users=30,
        means=[3.9, 4.1, 4.3, 4.4, 4.5, 4.5, 4.6, 4.6],
    )
    data.operations(root / "data" / "pilot_operations.csv", pilot_start, days=56)
    data.daily_cost(root / "data" / "pilot_daily_cost.csv", pilot_start, days=56, mean=160.0)
    data.issues(
        root / "data" / "issues.csv",
        [["EX-1", "Answers in other languages fall back to English", "issue", "minor", "open"]],
    )
    alert_rules = root / "ops" / "alert-rules.yaml"
    alert_rules.parent.mkdir(parents=True, exist_ok=True)
    alert_rules.write_text(render("alert-rules.yaml", id=usecase), encoding="utf-8")
