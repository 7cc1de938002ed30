"""The demo: two use cases walk the roadmap, blocked gates included, on a simulated calendar.

support-bot: Explore → PoC → blocked (accuracy under its bar) → new MLflow run → Pilot →
blocked (satisfaction 3.8) → more pilot weeks → Production.
invoice-ocr: Explore → PoC → blocked (field accuracy, open blocker) → No-Go, signed by
its sponsor's own key and recorded by the gate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from flows.prefect_api import TEMPORARY_SERVER_NOTE
from flows.promotion import promote_entry
from gates.demo import workspace as demo_ws
from gates.demo.mlflow_runs import log_run
from gates.engine.actions import approve, decide
from gates.explore.matrix import priority_matrix_svg
from gates.explore.selection import select, workspace_ranking
from gates.recheck.run import RecheckOutcome, recheck_all, recheck_from_json
from gates.signing.signers import load_signer
from gates.stages import Stage
from gates.terminal import console as default_console
from gates.terminal import show_gate, stage_text
from gates.workspace.session import Session

#: The two use cases Explore selects, and why (recorded in their signed registrations).
SELECTIONS = {
    "support-bot": "Medium impact, a clear metric (handle time), structured help-centre data "
    "and a cooperative team: the best start on the matrix.",
    "invoice-ocr": "Medium impact and a measurable field accuracy; finance is eager to try. "
    "Scanned invoices are the known risk the PoC must settle.",
}


class Story:
    """Prints the scenario as a story on the simulated calendar."""

    def __init__(self, console: Console, start: datetime) -> None:
        self.out = console
        self.start = start

    def day(self, n: float) -> datetime:
        return self.start + timedelta(days=n, hours=10)

    def chapter(self, n: float, title: str) -> None:
        when = self.day(n)
        self.out.print()
        self.out.print(
            Rule(
                f"[bold]week {int(n // 7) + 1} · {when.date().isoformat()}[/] — {title}",
                align="left",
            )
        )

    def say(self, text: str) -> None:
        self.out.print(f"  {text}", highlight=False)


def nightly(session: Session, when: datetime, use_prefect: bool) -> list[RecheckOutcome]:
    """One night of re-checks, through the Prefect flow or the library."""
    if not use_prefect:
        return recheck_all(session, now=when)
    import asyncio

    from flows.nightly import nightly_recheck
    from flows.prefect_api import flow_api

    with flow_api().active():  # the Prefect API the gates ran on (a temporary server if none)
        run: Any = nightly_recheck(
            workspace=str(session.workspace.root), at=when.isoformat(), return_state=True
        )
        state: Any = asyncio.run(run)
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException):
        raise summary
    by_id = {o["useCase"]: o for o in summary["outcomes"]}
    return [recheck_from_json(by_id[uc]) for uc in by_id]


@dataclass(frozen=True)
class MonthlyWritten:
    month: str
    verdicts: str
    html: Path


def write_monthly_report(session: Session, root: Path, last_run: datetime) -> MonthlyWritten:
    """support-bot's monthly operations report for the month of its latest monitoring run."""
    from gates.recheck.monthly import monthly_report
    from gates.recheck.monthly_figures import Month
    from gates.report.monthly_page import write_monthly

    report = monthly_report(session, "support-bot", Month.of(last_run), datetime.now(UTC))
    written = write_monthly(report, root / "reports")
    shown = ", ".join(
        f"{j.label.lower()} {j.status} ({j.value})" for j in report.summary if j.status != "met"
    )
    return MonthlyWritten(report.month.label, shown or "every criterion met", written.html)


def run_demo(
    root: Path, store: str | None = None, use_prefect: bool = True, console: Console | None = None
) -> Session:
    out = console or default_console()
    logging.getLogger("mlflow").setLevel(
        logging.WARNING
    )  # keep the story free of DB migration chatter
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=112)
    root = root.resolve()
    demo_ws.build(root, start, store=store or "ledger")
    session = Session.open(root)
    story = Story(out, start)
    keys = {name: load_signer(f"file:keys/{name}.pem", root) for name in demo_ws.PEOPLE}
    tracking, artifacts = session.workspace.tracking_uri, root / "mlartifacts"
    out.print(f"[bold]stagegate demo[/] in {root}")
    out.print(
        f"  ledger: {session.workspace.store_uri}   MLflow: {tracking}   gates via {'Prefect' if use_prefect else 'in-process engine'}"
    )

    def gate(usecase: str, target: Stage, n: float) -> str:
        entry = promote_entry(
            session, usecase, target, now=story.day(n), via_prefect=use_prefect,
            on_temporary_server=lambda: story.say(f"[dim]{escape(TEMPORARY_SERVER_NOTE)}[/]"),
        )  # fmt: skip
        show_gate(entry, out)
        assert entry.predicate.gate is not None
        return entry.predicate.gate.verdict

    # -- Explore ---------------------------------------------------------------------------
    story.chapter(0, "Explore: five candidates scored; two chosen from the priority matrix")
    ranking = workspace_ranking(session)
    for s in ranking.ranked:
        weak = [f"{c.criterion} {c.level.replace('_', ' ')}" for c in s.criteria if c.score < 0.5]
        story.say(
            f"{s.rank}. {s.id}: score {s.score:g}, {s.quadrant.label}"
            + (f" (held back by {', '.join(weak)})" if weak else "")
        )
    for uc, rationale in SELECTIONS.items():
        picked = select(session, [uc], rationale=rationale, now=story.day(0)).selected[0]
        story.say(
            f"{uc} selected (rank {picked.scored.rank} of {picked.of}) and registered; enters "
            f"{Stage.EXPLORE.label} with its exit criteria locked by digest"
        )
    matrix = root / "docs" / "explore" / "priority-matrix.svg"
    matrix.write_text(
        priority_matrix_svg(ranking, selected=SELECTIONS, standalone=True), encoding="utf-8"
    )
    story.say("priority matrix drawn to docs/explore/priority-matrix.svg")
    story.chapter(9, "Sponsors and the budget owner sign off the PoCs")
    for uc in ("support-bot", "invoice-ocr"):
        approve(session, uc, keys["dana"], role="sponsor", now=story.day(9))
        approve(
            session,
            uc,
            keys["lee"],
            role="budget_owner",
            now=story.day(9),
            note="PoC budget and 4-week schedule approved",
        )
    story.say("approvals signed with the approvers' own keys (not the gate service's)")
    story.chapter(10, "Decision checkpoint: go to PoC?")
    gate("support-bot", Stage.POC, 10)
    gate("invoice-ocr", Stage.POC, 10)

    # -- PoC ---------------------------------------------------------------------------------
    story.chapter(24, "PoC: first model evaluated on the 80-item test set")
    _, v1 = log_run(
        tracking,
        artifacts,
        "support-bot-poc",
        {"accuracy": 0.81, "latency_p95_ms": 1450},
        story.day(24),
        params={"retriever": "bm25"},
        register_as="support-bot",
    )
    story.say(f"MLflow run logged: accuracy 0.81, P95 latency 1450 ms (model version {v1})")
    log_run(
        tracking,
        artifacts,
        "invoice-ocr-poc",
        {"field_accuracy": 0.71},
        story.day(24),
        register_as="invoice-ocr",
    )
    story.say("invoice-ocr: field accuracy 0.71; handwritten invoices remain an open blocker")
    for uc in ("support-bot", "invoice-ocr"):
        approve(session, uc, keys["dana"], role="sponsor", now=story.day(25))
    story.chapter(25, "Go to Pilot? Both PoCs face their pre-defined quality bars")
    gate("support-bot", Stage.PILOT, 25)
    gate("invoice-ocr", Stage.PILOT, 25)
    story.chapter(27, "invoice-ocr: No-Go instead of an eternal PoC")
    no_go = decide(
        session,
        "invoice-ocr",
        "no-go",
        reason="Handwritten invoices (40% of volume) unreadable; no fix within the PoC time box",
        now=story.day(27),
        sponsor=keys["dana"],
    )
    assert no_go.predicate.decision is not None
    story.say(
        f"{no_go.predicate.decision.decider} (sponsor) signs the No-Go with her own key "
        f"(entry #{no_go.sequence - 1}); the gate records it citing that approval "
        f"(entry #{no_go.sequence}); invoice-ocr is stopped"
    )
    story.chapter(33, "support-bot: a dense retriever lifts accuracy")
    _, v2 = log_run(
        tracking,
        artifacts,
        "support-bot-poc",
        {"accuracy": 0.88, "latency_p95_ms": 1620},
        story.day(33),
        params={"retriever": "dense"},
        register_as="support-bot",
    )
    story.say(f"MLflow run logged: accuracy 0.88, P95 latency 1620 ms (model version {v2})")
    gate("support-bot", Stage.PILOT, 35)

    # -- Pilot -------------------------------------------------------------------------------
    pilot_start = story.day(35)
    demo_ws.write_pilot_operations(root, pilot_start, days=42)
    demo_ws.write_feedback(root, pilot_start, weeks=6, means=[3.6, 3.7, 3.8, 3.9, 3.9, 3.9])
    story.chapter(77, "Pilot, week 6: 30 agents on real tickets; the survey says 3.8/5")
    approve(
        session,
        "support-bot",
        keys["dana"],
        role="sponsor",
        now=story.day(77),
    )
    approve(
        session,
        "support-bot",
        keys["sam"],
        role="operations_lead",
        now=story.day(77),
        note="runbook and on-call rota ready",
    )
    gate("support-bot", Stage.PRODUCTION, 77)
    story.chapter(91, "Pilot, week 8: answers tuned from feedback; satisfaction recovers")
    demo_ws.write_pilot_operations(root, pilot_start, days=56)
    demo_ws.write_feedback(
        root, pilot_start, weeks=8, means=[3.6, 3.7, 3.8, 3.9, 4.4, 4.6, 4.7, 4.8]
    )
    gate("support-bot", Stage.PRODUCTION, 91)

    # -- Production --------------------------------------------------------------------------
    story.chapter(92, "Production: the monitoring job logs one MLflow run a day")
    for n in range(92, 106):
        log_run(
            tracking,
            artifacts,
            "support-bot-monitoring",
            demo_ws.monitoring_day(n),
            story.day(n) - timedelta(hours=8),
        )
    story.say(
        "14 daily runs: availability 99.94%, P95 1.4 s, quality 0.87 against 0.88, "
        "0 major incidents, about 2,200 USD a day"
    )
    story.chapter(105, "The nightly re-check keeps every use case honest")
    night = nightly(session, story.day(105) + timedelta(hours=16), use_prefect)
    for outcome in night:
        problems = [f"{r.check} {r.status.value}: {r.observed}" for r in outcome.problems]
        story.say(
            f"{outcome.usecase}: {outcome.verdict.upper()}"
            + (f" ({'; '.join(problems)})" if problems else "")
            + (f", entry #{outcome.sequence}" if outcome.sequence is not None else "")
            + (f" — {outcome.message}" if outcome.message else "")
        )

    monthly = write_monthly_report(session, root, story.day(105) - timedelta(hours=8))
    story.say(
        f"monthly operations report for {monthly.month}: {monthly.verdicts}; "
        f"written to {monthly.html.relative_to(root)} and its JSON"
    )

    from gates.engine.status import usecase_status
    from gates.ledger.verify import verify_ledger

    out.print()
    out.print(Rule("[bold]Where things stand[/]", align="left"))
    for uc in ("support-bot", "invoice-ocr"):
        st = usecase_status(session.workspace, uc, session.ledger.state(uc), datetime.now(UTC))
        out.print(
            f"  {uc}: ",
            stage_text(st.stage),
            f"for {st.days_in_stage:.0f} days; {st.entries} signed entries",
        )
    report = verify_ledger(session.ledger)
    verdict = (
        "[bold green]intact[/]"
        if report.intact
        else f"[bold red]{len(report.violations)} violations[/]"
    )
    simulated = f" ({report.simulated_note})" if report.simulated_clock else ""
    out.print(
        f"  audit verify: {report.entries} entries in {len(report.chains)} chains, {verdict}"
        f"{simulated}"
    )
    out.print()
    out.print(
        f"Next: [bold]stagegate --workspace {root} status[/]  ·  [bold]audit log support-bot[/]  ·  "
        "[bold]audit show support-bot#5[/] (the blocked PoC gate)  ·  "
        f"[bold]report monthly support-bot --month {monthly.month}[/]"
    )
    return session
