"""A gate told in brief: the markdown a gate run publishes, and the summary it returns.

The gate flow publishes ``gate_markdown`` (or ``resumed_markdown`` when it only finished
a recorded pass) as a Prefect artifact under ``artifact_key``, and returns
``gate_summary`` (or ``resumed_summary``) as plain JSON.
"""

from __future__ import annotations

import re
from typing import Any

from gates.engine.gate import GateEvaluation
from gates.ledger.entry import Entry
from gates.stages import Stage


def artifact_key(usecase: str, source: Stage, target: Stage) -> str:
    """``gate-<usecase>-<from>-to-<to>`` in lower-case letters, digits and dashes only
    (all a Prefect artifact key allows)."""
    raw = f"gate-{usecase}-{source.value}-to-{target.value}".lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return " ".join(str(value).split()).replace("|", "\\|")


def gate_markdown(
    evaluation: GateEvaluation, entry: Entry, alias: str | None, alias_problem: str | None = None
) -> str:
    """Verdict, one table row per check, the entry written and the alias (moved or not)."""
    plan = evaluation.plan
    blocking = len(evaluation.failing)
    lines = [
        f"# {plan.usecase_id}: {plan.stage.label} → {plan.target.label} — "
        f"**{evaluation.verdict.value.upper()}**",
        "",
        f"{len(evaluation.results)} checks, {blocking} blocking · evaluated at "
        f"{plan.context.now.isoformat()} · criteria `{plan.context.criteria_digest}`",
        "",
        "| check | status | observed | expected | reason |",
        "|---|---|---|---|---|",
    ]
    for r in evaluation.results:
        status = f"**{r.status.value}**" if r.status.blocks else r.status.value
        lines.append(
            f"| {_cell(r.check)} | {status} | {_cell(r.observed)} | {_cell(r.expected)} "
            f"| {_cell(r.reason)} |"
        )
    lines += [
        "",
        f"**Ledger entry** `{entry.key}` (sequence {entry.sequence}, stage after: "
        f"{entry.predicate.stage.after})  ",
        f"**Entry digest** `{entry.digest}`",
    ]
    if evaluation.model:
        lines.append(f"  \n**Gated model** `models:/{evaluation.model[0]}/{evaluation.model[1]}`")
    if alias:
        lines.append(f"  \n**Alias moved** `{alias}`")
    if alias_problem:
        lines.append(f"  \n**Alias NOT moved**: {_cell(alias_problem)}")
    return "\n".join(lines) + "\n"


def resumed_markdown(entry: Entry, alias: str | None) -> str:
    """A recorded pass found in the ledger and finished: nothing evaluated or written."""
    gate = entry.predicate.gate
    assert gate is not None
    source, target = Stage(gate.from_stage), Stage(gate.to_stage)
    lines = [
        f"# {entry.predicate.use_case}: {source.label} → {target.label} — **PASS** (already recorded)",
        "",
        f"**Ledger entry** `{entry.key}` (sequence {entry.sequence}), found in the ledger; "
        "nothing was evaluated or written again.  ",
        f"**Entry digest** `{entry.digest}`",
    ]
    if alias:
        lines.append(f"  \n**Alias moved** `{alias}`")
    return "\n".join(lines) + "\n"


def gate_summary(evaluation: GateEvaluation, entry: Entry, alias: str | None) -> dict[str, Any]:
    """The gate evaluated and recorded, as plain JSON (without ``alert`` and ``resumed``)."""
    plan = evaluation.plan
    return {
        "usecase": plan.usecase_id,
        "from": plan.stage.value,
        "to": plan.target.value,
        "verdict": evaluation.verdict.value,
        "stage": entry.predicate.stage.after,
        "sequence": entry.sequence,
        "entry_key": entry.key,
        "entry_digest": entry.digest,
        "failing": [
            {"check": r.check, "status": r.status.value, "reason": r.reason}
            for r in evaluation.failing
        ],
        "alias": alias,
    }


def resumed_summary(entry: Entry, alias: str | None) -> dict[str, Any]:
    """A recorded pass that was only finished, in the shape of ``gate_summary``."""
    gate = entry.predicate.gate
    assert gate is not None
    return {
        "usecase": entry.predicate.use_case,
        "from": gate.from_stage,
        "to": gate.to_stage,
        "verdict": gate.verdict,
        "stage": entry.predicate.stage.after,
        "sequence": entry.sequence,
        "entry_key": entry.key,
        "entry_digest": entry.digest,
        "failing": [],
        "alias": alias,
        "alert": None,
        "resumed": True,
    }
