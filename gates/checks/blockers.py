"""Check kind ``blockers``: no more open blockers than allowed (playbook: no technical blocker).

Blockers come from the use case's issue-tracker export (``evidence.issues``); an issue
counts when its kind is ``blocker`` and its status ``open``, whatever its severity.
"""

from __future__ import annotations

from gates.checks.interface import CheckContext, error_result
from gates.errors import EvidenceError
from gates.evidence.issues import load_issues
from gates.results import CheckResult, Status

KIND = "blockers"
CHECK = "blockers:open"


def run(ctx: CheckContext) -> list[CheckResult]:
    limit = ctx.criteria.open_blockers_max
    if limit is None:
        return []
    expected = f"≤ {limit} open blockers"
    location = ctx.usecase.evidence.issues
    if location is None:
        # Without a tracker export, "no blocker" is a claim nobody can check.
        reason = "no issue tracker export declared: set evidence.issues (CSV, YAML or JSON)"
        return [CheckResult(CHECK, KIND, Status.FAIL, reason, None, expected)]
    try:
        issues, evidence = load_issues(ctx.workspace.evidence_path(location))
    except EvidenceError as e:
        return [error_result(CHECK, KIND, f"evidence.issues: {e.message}")]
    blockers = [i for i in issues if i.is_open and i.kind == "blocker"]
    observed = f"{len(blockers)} open blockers"
    if len(blockers) > limit:
        names = ", ".join(i.label() for i in blockers)
        reason = f"{len(blockers)} open blocker(s), more than {limit} allowed: {names}"
        return [CheckResult(CHECK, KIND, Status.FAIL, reason, observed, expected, (evidence,))]
    listed = f": {', '.join(i.label() for i in blockers)}" if blockers else ""
    reason = f"{len(blockers)} open blocker(s) of {len(issues)} tracked issues{listed}"
    return [CheckResult(CHECK, KIND, Status.PASS, reason, observed, expected, (evidence,))]
