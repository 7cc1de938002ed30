"""Production operations in place: alert rules for the playbook's four alerts, and the
runbook, incident playbook and rollback plan.

Alert rules are read from a Prometheus-style rule file (``groups[].rules[]``, each rule
with ``alert`` and a ``labels.covers`` naming what it watches: latency, error_rate,
quality_drop or cost_80), the format most alerting stacks load or export.
"""

from __future__ import annotations

from typing import Any

from gates.canonical import strict_json_loads
from gates.checks.deliverables import check_deliverable
from gates.checks.interface import CheckContext
from gates.config_files import parse_yaml
from gates.errors import ConfigError, EvidenceError
from gates.evidence.datasets import file_evidence, read_bytes
from gates.policy.recheck import HealthRule
from gates.results import CheckResult, Status

KIND = "production-operations"


def alert_rules_result(ctx: CheckContext, rule: HealthRule) -> CheckResult:
    check = "monitoring:alert-rules"
    required = list(rule.alert_rules)
    expected = "alert rules covering " + ", ".join(required)
    monitoring = ctx.usecase.evidence.monitoring
    location = monitoring.alert_rules if monitoring else None
    if not location:
        return CheckResult(
            check,
            KIND,
            Status.FAIL,
            "no alert rules declared (evidence.monitoring.alert_rules): alerts cannot fire",
            "none",
            expected,
        )
    try:
        resolved = ctx.workspace.evidence_path(location)
        raw = read_bytes(resolved)
        evidence = file_evidence(resolved, kind="alert-rules")
        covered = covered_alerts(raw, resolved)
    except EvidenceError as e:
        return CheckResult(check, KIND, Status.ERROR, f"alert rules: {e.message}", None, expected)
    missing = [name for name in required if name not in covered]
    observed = ", ".join(sorted(covered)) or "none"
    if missing:
        reason = f"no alert rule covers {', '.join(missing)} in {location}"
        return CheckResult(check, KIND, Status.FAIL, reason, observed, expected, (evidence,))
    reason = f"{location} covers {', '.join(required)}"
    return CheckResult(check, KIND, Status.PASS, reason, observed, expected, (evidence,))


def covered_alerts(raw: bytes, where: str) -> dict[str, list[str]]:
    """What each ``labels.covers`` value is watched by: covers -> alert names."""
    try:
        data: Any = (
            strict_json_loads(raw) if where.endswith(".json") else parse_yaml(raw.decode(), where)
        )
    except ConfigError as e:
        raise EvidenceError(e.message) from e
    except ValueError as e:  # invalid JSON or UTF-8
        raise EvidenceError(f"{where}: not valid YAML/JSON ({e})") from e
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise EvidenceError(f"{where}: expected a rule file with groups[].rules[]")
    covered: dict[str, list[str]] = {}
    for g, group in enumerate(groups):
        rules = group.get("rules") if isinstance(group, dict) else None
        if not isinstance(rules, list):
            raise EvidenceError(f"{where}: groups[{g}].rules: expected a list of rules")
        for rule in rules:
            if not isinstance(rule, dict) or "alert" not in rule:
                continue  # recording rules have no alert
            labels = rule.get("labels") or {}
            covers = labels.get("covers") if isinstance(labels, dict) else None
            if isinstance(covers, str):
                covered.setdefault(covers, []).append(str(rule["alert"]))
    return covered


def documents_results(ctx: CheckContext, rule: HealthRule) -> list[CheckResult]:
    """Runbook, incident playbook, rollback plan: declared deliverables, present and hashed."""
    results = []
    for name in rule.documents:
        result = check_deliverable(ctx, name)
        results.append(
            CheckResult(
                f"operations:{name}",
                KIND,
                result.status,
                result.reason,
                result.observed,
                result.expected,
                result.evidence,
            )
        )
    return results
