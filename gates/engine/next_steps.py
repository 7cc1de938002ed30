"""What a use case still needs before its next gate passes, each with the command that supplies it.

A gate result says what is wrong; a newcomer also wants to know what to do. Each
missing piece becomes a ``Step``: what to do, and where there is one, the exact command
(``stagegate approve support-bot --role sponsor --key keys/sponsor.pem``). ``register``
and ``approve`` print the approvals still missing; ``promote --dry-run`` prints a step
for every check that would block.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gates.errors import ConfigError
from gates.ledger.replay import ChainState
from gates.policy.model import ExitCriteria
from gates.results import CheckResult, Status
from gates.stages import Stage, next_stage
from gates.workspace.loader import Workspace
from gates.workspace.settings import TrustedKey

#: Shown where the approver's own key belongs but its file is not known here.
YOUR_KEY = "YOUR_KEY"


@dataclass(frozen=True)
class Step:
    """One thing to do: ``what`` in words, and the exact command when there is one."""

    what: str
    command: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"what": self.what, "command": self.command}


@dataclass(frozen=True)
class Commands:
    """How the user calls stagegate (with ``--workspace DIR`` if they named one)."""

    prefix: str = "stagegate"

    def __call__(self, *args: str) -> str:
        return " ".join([self.prefix, *(shlex.quote(a) for a in args)])


def approval_steps(
    workspace: Workspace,
    state: ChainState,
    usecase_id: str,
    stage: Stage,
    commands: Commands,
    criteria: ExitCriteria | None = None,
) -> list[Step]:
    """The sign-offs the gate out of ``stage`` still lacks, one command per missing role."""
    if criteria is None:
        try:
            criteria = workspace.criteria(workspace.usecase(usecase_id), stage)
        except ConfigError:
            return []  # `validate` names the broken spec; nothing sensible to suggest here
    given = state.current_approvals if state.stage is stage else ()
    steps = []
    for role, needed in sorted(criteria.approvals.items()):
        signed_by = {a.key_name for a in given if a.role == role}
        missing = needed - len(signed_by)
        if missing <= 0:
            continue
        holders = [
            k
            for k in workspace.settings.trusted_keys
            if role in k.roles and not k.revoked and k.name not in signed_by
        ]
        if not holders:
            steps.append(
                Step(
                    f"no trusted key may sign as {role}: generate one and add the "
                    "[[trusted_keys]] block it prints to stagegate.toml",
                    commands(
                        "keys", "generate", f"keys/{role.replace('_', '-')}.pem", "--role", role
                    ),
                )
            )
            continue
        names = ", ".join(k.name for k in holders)
        steps.append(
            Step(
                f"{missing} more {role} approval(s), signed by one of: {names}",
                commands(
                    "approve",
                    usecase_id,
                    "--role",
                    role,
                    "--key",
                    private_key(workspace, holders[0]),
                ),
            )
        )
    return steps


def private_key(workspace: Workspace, key: TrustedKey) -> str:
    """The private key file beside a trusted public key (``keys/x.pub`` → ``keys/x.pem``).

    Approvers usually keep their keys elsewhere; then the command says ``YOUR_KEY``.
    """
    public = Path(key.path)
    if public.suffix != ".pub":
        return YOUR_KEY
    private = public.with_suffix(".pem")
    found = private if private.is_absolute() else workspace.root / private
    return str(private) if found.is_file() else YOUR_KEY


def after_approvals(
    workspace: Workspace, state: ChainState, usecase_id: str, commands: Commands
) -> list[Step]:
    """What comes next in the current stage: missing approvals, then the gate itself."""
    if state.stage is None:
        return [Step("register the use case: it enters Explore", commands("register", usecase_id))]
    target = next_stage(state.stage)
    if target is None:
        return []
    steps = approval_steps(workspace, state, usecase_id, state.stage, commands)
    promote = commands("promote", usecase_id, "--to", target.value)
    steps.append(Step(f"see what else the {target.label} gate needs", f"{promote} --dry-run"))
    steps.append(Step(f"run the gate into {target.label}", promote))
    return steps


def gate_steps(
    workspace: Workspace,
    state: ChainState,
    usecase_id: str,
    stage: Stage,
    criteria: ExitCriteria,
    results: Sequence[CheckResult],
    commands: Commands,
) -> list[Step]:
    """A step for every result that would keep the gate closed, in the gate's order."""
    spec = _spec_file(workspace, usecase_id)
    steps: list[Step] = []
    approvals_done = False
    for result in results:
        if not result.status.blocks:
            continue
        if result.kind == "approvals":
            if not approvals_done:  # one pass over every role, with their commands
                steps.extend(
                    approval_steps(workspace, state, usecase_id, stage, commands, criteria)
                )
                approvals_done = True
            continue
        steps.extend(_remedy(workspace, usecase_id, stage, criteria, spec, result, commands))
    return steps


def _spec_file(workspace: Workspace, usecase_id: str) -> str:
    source = workspace.sources.get(usecase_id)
    if source is None:
        return f"usecases/{usecase_id}.yaml"
    return (
        str(source.relative_to(workspace.root))
        if source.is_relative_to(workspace.root)
        else str(source)
    )


def _remedy(
    workspace: Workspace,
    usecase_id: str,
    stage: Stage,
    criteria: ExitCriteria,
    spec: str,
    result: CheckResult,
    commands: Commands,
) -> list[Step]:
    name = result.check.partition(":")[2]
    usecase = workspace.usecases.get(usecase_id)
    evidence = usecase.evidence if usecase else None
    if result.kind == "deliverables" and evidence is not None:
        location = evidence.deliverables.get(name)
        if location is None:
            return [Step(f"declare evidence.deliverables.{name} (a file or folder) in {spec}")]
        return [Step(f"write the {name.replace('_', ' ')}: {result.reason}")]
    if result.check == "sponsors":
        return [Step(f"name the executive sponsor(s) under sponsors: in {spec}")]
    if result.check.startswith("budget:"):
        return [
            Step(f"set budgets.{name} (monthly, in {_currency(workspace, usecase_id)}) in {spec}")
        ]
    if result.kind == "next-criteria":
        return [Step(f"complete the {Stage(name).label} exit criteria in {spec}: {result.reason}")]
    if result.kind == "criteria-lock" and result.status is Status.FAIL:
        return [
            Step(
                f"the exit criteria in {spec} changed since {stage.label} started: undo the "
                "change, or have a sponsor approve the new criteria and amend",
                commands(
                    "approve", usecase_id, "--role", "sponsor", "--amendment", "--key", YOUR_KEY
                ),
            ),
            Step("then re-lock the criteria", commands("amend", usecase_id, "--reason", "WHY")),
        ]
    if result.kind == "time-box" and result.status is Status.FAIL:
        return [
            Step(
                "past the hard maximum: record the decision, or raise "
                f"criteria.{stage.value}.time_box.max_days in {spec} and amend with a "
                "sponsor's approval",
                commands("decide", usecase_id, "no-go", "--reason", "WHY"),
            )
        ]
    if result.kind == "expectations" and evidence is not None:
        location = evidence.datasets.get(name)
        return [_dataset_step(workspace, spec, criteria, name, location, result)]
    if (
        result.kind == "mlflow-metrics"
        and evidence is not None
        and stage.value not in evidence.metrics
    ):
        return [
            Step(
                f"declare evidence.metrics.{stage.value} in {spec}: the MLflow run holding "
                "the metrics (experiment, run_id or model: models:/NAME/VERSION)"
            )
        ]
    if result.check == "blockers:open" and evidence is not None and evidence.issues is None:
        return [
            Step(
                f"declare evidence.issues in {spec}: an issue-tracker export (CSV, YAML or "
                "JSON with id, title, kind, severity, status)"
            )
        ]
    return [Step(f"{result.check}: {result.reason}")]


def _dataset_step(
    workspace: Workspace,
    spec: str,
    criteria: ExitCriteria,
    name: str,
    location: str | None,
    result: CheckResult,
) -> Step:
    columns = ""
    suite = next((d.suite for d in criteria.datasets if d.dataset == name), None)
    if suite is not None:
        from gates.checks.expectations import required_columns

        try:
            columns = " with columns " + ", ".join(required_columns(workspace.root, suite))
        except ConfigError:
            columns = ""
    if location is None:
        return Step(f"declare evidence.datasets.{name} in {spec}: a CSV or Parquet file{columns}")
    path = Path(workspace.resolve(location))
    if "://" not in location and not path.exists():
        return Step(f"create {location}{columns}")
    return Step(f"{result.check}: {result.reason}")


def _currency(workspace: Workspace, usecase_id: str) -> str:
    usecase = workspace.usecases.get(usecase_id)
    return usecase.currency if usecase else "USD"
