"""The index page: every use case with its stage, time box, last verdict and health."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from gates.engine.status import UseCaseStatus, usecase_status
from gates.ledger.describe import stage_label
from gates.report.banner import page_banner
from gates.report.models import Badge, IndexView, UseCaseRow, is_usecase_id
from gates.report.reading import ChainRead, LedgerRead, empty_chain, read_ledger
from gates.stages import Stage
from gates.workspace.session import Session


def health_badges(status: UseCaseStatus, violations: int) -> tuple[Badge, ...]:
    """Badges that say, in words, whether a use case needs attention."""
    badges: list[Badge] = []
    if violations:
        badges.append(
            Badge("fails verification", "danger", f"{violations} violation(s) in this chain")
        )
    label = stage_label(status.stage)
    if status.stage == Stage.STOPPED.value:
        badges.append(Badge("stopped", "muted", "stopped by a signed No-Go decision"))
    elif status.stage == "unregistered":
        badges.append(Badge("not registered", "muted", "no ledger entries yet"))
    elif status.time_box == "overdue":
        badges.append(
            Badge(
                "overdue",
                "danger",
                f"{status.days_in_stage or 0:.0f} days in {label}, past the hard maximum of "
                f"{status.max_days} days: a Go/No-Go decision is overdue",
            )
        )
    elif status.time_box == "over-planned":
        badges.append(
            Badge(
                "over plan",
                "warn",
                f"{status.days_in_stage or 0:.0f} days in {label}, past the planned "
                f"{status.planned_days} days",
            )
        )
    verdict = status.last_verdict
    if verdict == "pass":
        badges.append(
            Badge("last gate passed", "ok", f"gate {_gate_label(status.last_gate)} passed")
        )
    elif verdict == "blocked":
        badges.append(
            Badge("last gate blocked", "warn", f"gate {_gate_label(status.last_gate)} was blocked")
        )
    elif verdict == "error":
        badges.append(
            Badge(
                "last gate error", "danger", f"gate {_gate_label(status.last_gate)} could not run"
            )
        )
    elif status.stage != "unregistered":
        badges.append(Badge("no gate yet", "muted", "no gate has been run in this chain"))
    return tuple(badges)


def _gate_label(gate: str | None) -> str | None:
    """``poc->pilot`` as a reader wants it: ``PoC → Pilot``."""
    if gate is None:
        return None
    source, _, target = gate.partition("->")
    return f"{stage_label(source)} → {stage_label(target)}"


def time_box_text(planned: int | None, maximum: int | None) -> str:
    parts = []
    if planned is not None:
        parts.append(f"planned {planned} d")
    if maximum is not None:
        parts.append(f"max {maximum} d")
    return " · ".join(parts) or "—"


def usecase_row(
    session: Session, usecase_id: str, chain: ChainRead, now: datetime, violations: int
) -> UseCaseRow:
    status = usecase_status(
        session.workspace, usecase_id, chain.state, now, milestones=chain.milestones
    )
    spec = session.workspace.usecases.get(usecase_id)
    return UseCaseRow(
        id=usecase_id,
        title=status.title,
        department=spec.department if spec else "—",
        stage=status.stage,
        stage_label=stage_label(status.stage) if status.stage != "unregistered" else "unregistered",
        entered_at=status.entered_at,
        days_in_stage=status.days_in_stage,
        planned_days=status.planned_days,
        max_days=status.max_days,
        time_box=status.time_box,
        time_box_text=time_box_text(status.planned_days, status.max_days),
        last_gate=_gate_label(status.last_gate),
        last_verdict=status.last_verdict,
        next_checkpoint=status.next_checkpoint,
        entries=len(chain.sequences),
        health=health_badges(status, violations),
        linkable=is_usecase_id(usecase_id),
        risks=status.risks,
        risk_error=status.risk_error,
        roadmap=status.roadmap,
        roadmap_error=status.roadmap_error,
    )


def build_index(session: Session, read: LedgerRead, now: datetime) -> IndexView:
    ids = sorted(set(read.chains) | set(session.workspace.usecases))
    chains = {uc: read.chains.get(uc) or empty_chain(uc) for uc in ids}
    linkable = {uc for uc in ids if is_usecase_id(uc)}
    counts = Counter(v.usecase for v in read.report.violations)
    return IndexView(
        workspace=session.workspace.root.name,
        generated_at=now,
        banner=page_banner(read.report, "ledger", now, linkable),
        rows=tuple(usecase_row(session, uc, chains[uc], now, counts[uc]) for uc in ids),
        lanes=tuple(chains[uc].lane for uc in ids if chains[uc].lane.spans),
    )


def index_view(session: Session, now: datetime) -> IndexView:
    """The front page: every use case with stage, time box and health; the ledger banner."""
    return build_index(session, read_ledger(session), now)
