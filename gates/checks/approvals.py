"""Approvals: t-of-n sign-offs per role, counted over distinct trusted approver keys."""

from __future__ import annotations

from gates.checks.interface import CheckContext
from gates.results import CheckResult, Evidence, Status

KIND = "approvals"


def run(ctx: CheckContext) -> list[CheckResult]:
    results = []
    for role, needed in sorted(ctx.criteria.approvals.items()):
        if needed <= 0:  # an override of 0 removes a default role
            continue
        keys = {a.keyid: a for a in ctx.view.approvals if a.role == role}
        evidence = tuple(
            Evidence(
                kind="approval",
                uri=f"ledger:{ctx.usecase.id}#{a.sequence}",
                details={
                    "role": a.role,
                    "approver": a.approver,
                    "key": a.key_name,
                    "keyid": a.keyid,
                },
            )
            for a in keys.values()
        )
        names = ", ".join(sorted(a.approver for a in keys.values())) or "none"
        stale = sorted(
            {
                a.keyid: a for a in ctx.view.superseded if a.role == role and a.keyid not in keys
            }.values(),
            key=lambda a: a.sequence,
        )
        if len(keys) >= needed:
            status, reason = Status.PASS, f"{role} approval signed"
        else:
            status, reason = Status.FAIL, f"missing {needed - len(keys)} {role} approval(s)"
            if stale:
                given = ", ".join(
                    f"{a.approver} (#{a.sequence}, under {a.criteria_digest[:19]})" for a in stale
                )
                reason += (
                    f"; given under superseded criteria, no longer counted: {given} — "
                    "approve again under the amended criteria"
                )
        results.append(
            CheckResult(
                f"approval:{role}",
                KIND,
                status,
                reason,
                f"{len(keys)} ({names})",
                f"≥ {needed} distinct {role} key(s)",
                evidence,
            )
        )
    return results
