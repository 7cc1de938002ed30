"""What `stagegate validate` finds: errors apart from warnings, by default for each use
case's current stage only.

A use case in Explore needs what its Explore gate and tonight's re-check need, not the
Production evidence it will gather months later. So by default each use case is judged
by its current stage (unregistered: Explore):

- **errors** (the workspace is wrong as written): a file that does not load, criteria
  or re-check overrides that do not validate, a name that points nowhere, evidence
  outside the workspace, key files missing, a role the current gate needs that no
  trusted key holds, and what the current stage's nightly re-check needs to pass (in
  Production: monitoring, a quality target, alert rules, runbooks);
- **warnings** (work in progress): what the gate out of the current stage still lacks
  (evidence not declared yet, files not written yet) and what the re-check warns about
  (a single sponsor, a missing budget).

With every stage (``stages=None``) the whole roadmap is judged: the evidence each gate
declares is an error where it is missing, as before, and the rest are warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gates.errors import ConfigError, EvidenceError
from gates.policy.merge import closest
from gates.policy.model import ExitCriteria
from gates.policy.recheck import RecheckPolicy, effective_recheck_policy
from gates.stages import ROADMAP, Stage, next_stage
from gates.workspace.loader import SETTINGS_FILE, SUITES_DIR, URL, Workspace
from gates.workspace.usecase import UseCaseSpec

Severity = Literal["error", "warning"]
GATED = (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    #: ``file: field: what is wrong or missing``.
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def check_workspace(
    workspace: Workspace, stages: Mapping[str, Stage | None] | None = None
) -> list[Finding]:
    """Every finding about ``workspace``.

    ``stages`` maps each use case to its current stage (None: not registered, judged as
    Explore); a use case missing from it is checked for structure only. ``stages=None``
    judges every stage of every use case.
    """
    findings: list[Finding] = []
    try:
        workspace.policy()
    except ConfigError as e:  # named once, by its own file, not once per use case and stage
        where = f"{workspace.root / SETTINGS_FILE}: policy.path"
        return [Finding("error", f"{where}: {e.message}"), *_settings_findings(workspace)]
    for uc_id, spec in sorted(workspace.usecases.items()):
        source = str(workspace.sources.get(uc_id, uc_id))
        criteria = _criteria(workspace, spec, source, findings)
        findings.extend(_recheck_overrides(spec, source))
        findings.extend(_references(spec, source))
        findings.extend(_evidence_paths(workspace, spec, source))
        if stages is None:
            for stage in GATED:
                if stage in criteria:
                    findings.extend(_declared(spec, source, stage, criteria[stage], "error"))
                    findings.extend(_gate_needs(spec, source, criteria[stage], "warning"))
                    findings.extend(_roles(workspace, source, criteria[stage], "warning"))
                findings.extend(_recheck_needs(spec, source, stage, strict=False))
        elif uc_id in stages:
            current = stages[uc_id] or Stage.EXPLORE
            if current in criteria:
                findings.extend(_declared(spec, source, current, criteria[current], "warning"))
                findings.extend(_gate_needs(spec, source, criteria[current], "warning"))
                findings.extend(_roles(workspace, source, criteria[current], "error"))
                findings.extend(_files(workspace, spec, source, criteria[current]))
            if current in ROADMAP:
                findings.extend(_recheck_needs(spec, source, current, strict=True))
    return [*findings, *_settings_findings(workspace)]


def validate_workspace(workspace: Workspace) -> list[str]:
    """The errors of every stage of every use case (what ``validate --all-stages`` fails on)."""
    return [f.message for f in check_workspace(workspace) if f.is_error]


def _criteria(
    workspace: Workspace, spec: UseCaseSpec, source: str, findings: list[Finding]
) -> dict[Stage, ExitCriteria]:
    """The effective criteria of every gated stage; those that do not validate are errors."""
    found = {}
    for stage in GATED:
        try:
            found[stage] = workspace.criteria(spec, stage)
        except ConfigError as e:
            findings.extend(Finding("error", f"{source}: {p}") for p in e.problems)
    return found


def _leaving(stage: Stage) -> str:
    target = next_stage(stage)
    return f"to leave {stage.label}" + (f" for {target.label}" if target else "")


def _declared(
    spec: UseCaseSpec, source: str, stage: Stage, criteria: ExitCriteria, severity: Severity
) -> list[Finding]:
    """Evidence the gate out of ``stage`` reads that the spec does not declare."""
    found = []
    evidence = spec.evidence
    for ds in criteria.datasets:
        if ds.dataset not in evidence.datasets:
            found.append(
                Finding(
                    severity,
                    f"{source}: evidence.datasets.{ds.dataset}: required by the "
                    f"{stage.value} exit criteria (suite {ds.suite}) but not declared",
                )
            )
    for name in criteria.deliverables:
        if name not in evidence.deliverables:
            found.append(
                Finding(
                    severity,
                    f"{source}: evidence.deliverables.{name}: required {_leaving(stage)} "
                    "but not declared",
                )
            )
    if criteria.metrics and stage.value not in evidence.metrics:
        found.append(
            Finding(
                severity,
                f"{source}: evidence.metrics.{stage.value}: the {stage.label} exit criteria "
                "compare MLflow metrics but no run selector is declared",
            )
        )
    return found


def _gate_needs(
    spec: UseCaseSpec,
    source: str,
    criteria: ExitCriteria,
    severity: Severity,
) -> list[Finding]:
    """What else the gate out of the stage reads from the spec and would find missing."""
    stage = Stage(criteria.stage)
    why = f"required {_leaving(stage)}"
    found = []
    if criteria.sponsors is not None and len(spec.sponsors) < criteria.sponsors.minimum:
        found.append(Finding(severity, f"{source}: sponsors: no executive sponsor named ({why})"))
    for budget_stage in criteria.budget_required_for:
        if (spec.budgets.get(budget_stage) or 0) <= 0:
            found.append(Finding(severity, f"{source}: budgets.{budget_stage}: not set ({why})"))
    cost = criteria.cost
    if cost is not None:
        inputs = spec.evidence.cost
        if cost.budget_stage not in inputs.unit and stage.value not in inputs.daily_spend:
            found.append(
                Finding(
                    severity,
                    f"{source}: evidence.cost.unit.{cost.budget_stage}: no cost inputs for the "
                    f"{cost.budget_stage} forecast (or evidence.cost.daily_spend.{stage.value}; "
                    f"{why})",
                )
            )
    if criteria.open_blockers_max is not None and spec.evidence.issues is None:
        found.append(
            Finding(
                severity,
                f"{source}: evidence.issues: no issue-tracker export declared; the gate "
                f"counts open blockers ({why})",
            )
        )
    if criteria.pilot is not None:
        feedback = spec.evidence.pilot.feedback
        if feedback not in spec.evidence.datasets:
            found.append(
                Finding(
                    severity,
                    f"{source}: evidence.pilot.feedback: names dataset {feedback!r}, which is "
                    f"not declared under evidence.datasets ({why})",
                )
            )
        if criteria.pilot.kpi_must_improve and spec.evidence.pilot.kpi is None:
            found.append(
                Finding(
                    severity,
                    f"{source}: evidence.pilot.kpi: the business KPI and its baseline are not "
                    f"declared ({why})",
                )
            )
    return found


def _roles(
    workspace: Workspace, source: str, criteria: ExitCriteria, severity: Severity
) -> list[Finding]:
    """Roles the gate needs approvals from that no trusted, unrevoked key may sign for."""
    held = {r for k in workspace.settings.trusted_keys if not k.revoked for r in k.roles}
    settings = workspace.root / SETTINGS_FILE
    found = []
    for role, needed in sorted(criteria.approvals.items()):
        if needed > 0 and role not in held:
            close = closest(role, held)
            misspelt = f"; a key has the role {close!r}: misspelt?" if close else ""
            found.append(
                Finding(
                    severity,
                    f"{settings}: trusted_keys: no key may sign as {role!r}, which "
                    f"{source} needs {_leaving(Stage(criteria.stage))}{misspelt} (add a "
                    f'[[trusted_keys]] block with roles = ["{role}"]; `stagegate keys '
                    "generate KEY.pem --role ROLE` prints one)",
                )
            )
    return found


def _files(
    workspace: Workspace, spec: UseCaseSpec, source: str, criteria: ExitCriteria
) -> list[Finding]:
    """Declared deliverables and datasets of the gate that are not written yet."""
    stage = Stage(criteria.stage)
    wanted = [
        *(("deliverables", n, spec.evidence.deliverables.get(n)) for n in criteria.deliverables),
        *(
            ("datasets", d.dataset, spec.evidence.datasets.get(d.dataset))
            for d in criteria.datasets
        ),
    ]
    found = []
    for kind, name, location in wanted:
        if location is None or URL.match(location):
            continue
        path = Path(workspace.resolve(location))
        if not path.exists():
            found.append(
                Finding(
                    "warning",
                    f"{source}: evidence.{kind}.{name}: {location} does not exist yet "
                    f"(required {_leaving(stage)})",
                )
            )
    return found


def _recheck_overrides(spec: UseCaseSpec, source: str) -> list[Finding]:
    found: list[Finding] = []
    for stage_name, overrides in sorted(spec.recheck.items()):
        try:
            effective_recheck_policy(Stage(stage_name), overrides, source=source)
        except ConfigError as e:
            found.extend(Finding("error", f"{source}: {p}") for p in e.problems)
    return found


def _references(spec: UseCaseSpec, source: str) -> list[Finding]:
    """Names in the spec that must point at a declared dataset, and do not."""
    declared = spec.evidence.datasets
    pointers: list[tuple[str, str | None]] = []
    monitoring = spec.evidence.monitoring
    if monitoring is not None:
        pointers.append(("evidence.monitoring.dataset", monitoring.dataset))
    kpi = spec.evidence.pilot.kpi
    if kpi is not None:
        pointers.append(("evidence.pilot.kpi.dataset", kpi.dataset))
    pointers.extend(
        (f"evidence.cost.daily_spend.{stage}", name)
        for stage, name in sorted(spec.evidence.cost.daily_spend.items())
    )
    return [
        Finding(
            "error",
            f"{source}: {field}: names {name!r}, which is not declared under evidence.datasets",
        )
        for field, name in pointers
        if name and name not in declared
    ]


def _recheck_needs(spec: UseCaseSpec, source: str, stage: Stage, *, strict: bool) -> list[Finding]:
    """What the nightly re-check of ``stage`` reads from the spec and would find missing.

    ``strict``: the use case is in ``stage`` now, so what would fail tonight is an error.
    """
    try:
        policy = effective_recheck_policy(stage, spec.recheck.get(stage.value), source=source)
    except ConfigError:
        return []  # named by _recheck_overrides
    fails: Severity = "error" if strict else "warning"
    night = f"the nightly re-check of {stage.label}"
    found = []
    if policy.sponsors is not None and strict:
        if not spec.sponsors:
            found.append(Finding("error", f"{source}: sponsors: none named; {night} fails"))
        elif len(spec.sponsors) < policy.sponsors.warn_below:
            found.append(
                Finding(
                    "warning",
                    f"{source}: sponsors: a single sponsor; {night} warns (the use case "
                    "stalls if they leave: name a second one)",
                )
            )
    if policy.budget is not None and strict and (spec.budgets.get(stage.value) or 0) <= 0:
        severity: Severity = "error" if policy.budget.missing == "fail" else "warning"
        verb = "fails" if severity == "error" else "warns"
        found.append(Finding(severity, f"{source}: budgets.{stage.value}: not set; {night} {verb}"))
    found.extend(_health_needs(spec, source, policy, night, fails))
    return found


def _health_needs(
    spec: UseCaseSpec, source: str, policy: RecheckPolicy, night: str, severity: Severity
) -> list[Finding]:
    health = policy.health
    if health is None:
        return []
    evidence = spec.evidence
    found = []
    if evidence.monitoring is None:
        found.append(
            Finding(
                severity,
                f"{source}: evidence.monitoring: not declared; {night} reads production "
                "health from an MLflow experiment or a daily dataset",
            )
        )
    elif health.alert_rules and not evidence.monitoring.alert_rules:
        found.append(
            Finding(
                severity,
                f"{source}: evidence.monitoring.alert_rules: not declared; {night} checks "
                f"the alerts {', '.join(health.alert_rules)} are in place",
            )
        )
    if health.quality.target is None:
        found.append(
            Finding(
                severity,
                f"{source}: recheck.{policy.stage}.health.quality.target: not set; {night} "
                "holds the quality score to it (within −5 %)",
            )
        )
    for name in health.documents:
        if name not in evidence.deliverables:
            found.append(
                Finding(
                    severity,
                    f"{source}: evidence.deliverables.{name}: not declared; {night} checks "
                    "it exists",
                )
            )
    return found


def _evidence_paths(workspace: Workspace, spec: UseCaseSpec, source: str) -> list[Finding]:
    """Evidence paths that lead outside the workspace and the evidence roots."""
    ev = spec.evidence
    declared = [
        *(f"datasets.{name}" for name in ev.datasets),
        *(f"deliverables.{name}" for name in ev.deliverables),
    ]
    locations = [*ev.datasets.values(), *ev.deliverables.values()]
    for name, location in (
        ("issues", ev.issues),
        ("monitoring.alert_rules", ev.monitoring.alert_rules if ev.monitoring else None),
    ):
        if location is not None:
            declared.append(name)
            locations.append(location)
    found = []
    for name, location in zip(declared, locations, strict=True):
        try:
            workspace.evidence_path(location)
        except EvidenceError as e:
            found.append(Finding("error", f"{source}: evidence.{name}: {e.message}"))
    return found


def _settings_findings(workspace: Workspace) -> list[Finding]:
    settings_file = workspace.root / SETTINGS_FILE
    found: list[Finding] = []
    for number, root in enumerate(workspace.settings.evidence.roots):
        if not Path(workspace.resolve(root)).is_dir():
            found.append(
                Finding(
                    "error", f"{settings_file}: evidence.roots.{number}: {root!r} is not a folder"
                )
            )
    suites = workspace.root / SUITES_DIR
    for suite in sorted(suites.glob("*.json")) if suites.is_dir() else []:
        try:
            workspace.contain(suite, str(suite))
        except EvidenceError as e:
            found.append(Finding("error", e.message))
    for key in workspace.settings.trusted_keys:
        if not Path(workspace.resolve(key.path)).is_file():
            found.append(
                Finding(
                    "error",
                    f"{settings_file}: trusted_keys.{key.name}.path: {key.path!r} not found",
                )
            )
    chain = workspace.settings.timestamp.tsa_certificate
    if chain:
        from gates.tsa.chain import TsaChain

        try:
            TsaChain.load(Path(workspace.resolve(chain)))
        except ConfigError as e:
            found.extend(
                Finding("error", f"{settings_file}: timestamp.tsa_certificate: {e.source}: {p}")
                for p in e.problems
            )
    return found
