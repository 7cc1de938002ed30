"""The index page: every use case with its stage, time box, last verdict and health."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from gates.engine.status import Health, UseCaseStatus, usecase_status
from gates.ledger.describe import stage_label
from gates.report.banner import page_banner
from gates.report.models import Badge, IndexView, UseCaseRow, is_usecase_id
from gates.report.reading import ChainRead, LedgerRead, empty_chain, read_ledger
from gates.stages import Stage
from gates.workspace.session import Session

#: How the health filter names the last re-check's verdict, worst first.
HEALTH_KEYS = ("fail", "error", "warn", "ok", "none")
HEALTH_WORDS = {
    "fail": "re-check failed",
    "error": "re-check could not run",
    "warn": "re-check warns",
    "ok": "re-check ok",
    "none": "not re-checked",
}
_HEALTH_TONES = {"fail": "danger", "error": "danger", "warn": "warn", "ok": "ok", "none": "muted"}


def health_key(health: Health | None) -> str:
    """The health filter's value: the last re-check's verdict, or ``none``."""
    return health.verdict if health is not None and health.verdict in HEALTH_WORDS else "none"


def _recheck_badge(status: UseCaseStatus) -> Badge | None:
    health = status.health
    if health is None:
        if status.stage in (Stage.STOPPED.value, "unregistered"):
            return None
        return Badge("not re-checked", "muted", "no re-check has been signed since the stage began")
    key = health_key(health)
    when = health.at.date().isoformat()
    if health.findings:
        found = "; ".join(f"{f.check} {f.status}: {f.reason}" for f in health.findings)
        title = f"re-check of {when} (entry #{health.sequence}): {found}"
    else:
        title = f"re-check of {when} (entry #{health.sequence}): every check passed"
    return Badge(HEALTH_WORDS[key], _HEALTH_TONES[key], title)


def health_badges(status: UseCaseStatus, violations: int) -> tuple[Badge, ...]:
    """Badges that say, in words, whether a use case needs attention.

    Health is what the ledger says now: verification, the time box and the newest
    re-check's verdict. The last gate is a fact of its own (a passed gate followed by a
    warning re-check is not healthy).
    """
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
    recheck = _recheck_badge(status)
    if recheck is not None:
        badges.append(recheck)
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
        recheck=status.health,
        health_key=health_key(status.health),
        linkable=is_usecase_id(usecase_id),
        risks=status.risks,
        risk_error=status.risk_error,
        roadmap=status.roadmap,
        roadmap_error=status.roadmap_error,
    )


def build_index(session: Session, read: LedgerRead, now: datetime) -> IndexView:
    ids = sorted(set(read.chains) | set(session.workspace.usecases))
    chains = {uc: read.chains.get(uc) or empty_chain(uc) for uc in ids}
    counts = Counter(v.usecase for v in read.report.violations)
    return IndexView(
        workspace=session.workspace.root.name,
        generated_at=now,
        banner=page_banner(read.report, "ledger", now, read.has_page),
        rows=tuple(usecase_row(session, uc, chains[uc], now, counts[uc]) for uc in ids),
        lanes=tuple(chains[uc].lane for uc in ids if chains[uc].lane.spans),
    )


def index_view(session: Session, now: datetime) -> IndexView:
    """The front page: every use case with stage, time box and health; the ledger banner."""
    return build_index(session, read_ledger(session), now)
