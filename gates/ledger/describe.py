"""Plain-language descriptions of ledger entries, shared by the CLI and the report."""

from __future__ import annotations

from gates.ledger.statement import EntryPredicate
from gates.stages import Stage


def stage_label(stage: str | None) -> str:
    if stage is None:
        return "—"
    try:
        return Stage(stage).label
    except ValueError:
        return stage


def summarize(p: EntryPredicate) -> str:
    """One line that says what an entry did."""
    if p.gate is not None:
        g = p.gate
        failing = [c.check for c in g.checks if c.status in ("fail", "error")]
        tail = f" ({', '.join(failing)})" if failing else ""
        return f"gate {stage_label(g.from_stage)} → {stage_label(g.to_stage)}: {g.verdict}{tail}"
    if p.approval is not None:
        a = p.approval
        if a.purpose == "amendment":
            what = "a criteria amendment"
        elif a.decision is not None:
            what = f"{_decision_name(a.decision.decision, a.to_stage)}: {a.decision.reason}"
        else:
            what = f"{stage_label(a.from_stage)} → {stage_label(a.to_stage)}"
        return f"approval by {a.approver} as {a.role} for {what}"
    if p.decision is not None:
        d = p.decision
        by = f" (decided by {d.decider})" if d.decider else ""
        if d.decision == "no-go":
            return f"No-Go decision: {d.reason}{by}"
        return f"rollback to {stage_label(d.to_stage)}: {d.reason}{by}"
    if p.amendment is not None:
        return f"criteria of {stage_label(p.amendment.stage)} amended: {p.amendment.reason}"
    if p.kind == "registration":
        picked = (
            f" (selected {p.selection.rank} of {p.selection.of})" if p.selection is not None else ""
        )
        return f"registered; entered {stage_label(p.stage.after)}{picked}"
    if p.kind == "recheck":
        verdict = recheck_verdict(p)
        return f"re-check of {stage_label(p.stage.after)}" + (f": {verdict}" if verdict else "")
    return p.kind


def _decision_name(decision: str, to_stage: str) -> str:
    return "a No-Go" if decision == "no-go" else f"a rollback to {stage_label(to_stage)}"


def recheck_verdict(p: EntryPredicate) -> str | None:
    return p.recheck.verdict if p.recheck is not None else None
