"""A use case's page: its roadmap lanes, timeline of signed entries and health."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime

from gates.ledger.describe import recheck_verdict, stage_label, summarize
from gates.ledger.entry import Entry
from gates.ledger.statement import EntryPredicate
from gates.ledger.verify import VerificationReport
from gates.report.banner import page_banner
from gates.report.index_page import usecase_row
from gates.report.models import Field, TimelinePage, TimelineRow, UseCaseView, ViolationView
from gates.report.outlinks import LinkOut
from gates.report.reading import ChainRead, read_chain
from gates.workspace.portable import portable_location
from gates.workspace.session import Session


def _verdict(p: EntryPredicate) -> str | None:
    if p.gate is not None:
        return p.gate.verdict
    if p.decision is not None:
        return p.decision.decision
    return recheck_verdict(p)


def _signer_names(session: Session, entry: Entry) -> tuple[str, ...]:
    names = session.trust.by_keyid
    return tuple(
        sorted(names[k].name if k in names else f"key {k[:12]}" for k in entry.signer_keyids)
    )


def _by_sequence(violations: tuple[ViolationView, ...]) -> dict[int | None, list[ViolationView]]:
    grouped: dict[int | None, list[ViolationView]] = {}
    for v in violations:
        grouped.setdefault(v.sequence, []).append(v)
    return grouped


@dataclass(frozen=True)
class TimelineWindow:
    """The part of a long timeline one page shows: the newest ``size`` entries numbered
    below ``before`` (all of the newest when None). The live UI pages a long chain like
    this; the saved report shows every entry."""

    size: int
    before: int | None = None

    def select(self, sequences: tuple[int, ...]) -> tuple[int, int, TimelinePage]:
        """The (start, end) positions in ``sequences`` to show, and the pages around them."""
        count = len(sequences)
        end = count if self.before is None else bisect_left(sequences, self.before)
        start = max(0, end - self.size)
        newer_end = end + self.size
        return (
            start,
            end,
            TimelinePage(
                total=count,
                older=sequences[start] if start > 0 else None,
                newer=sequences[newer_end] if newer_end < count else None,
                latest=end == count,
            ),
        )


def _timeline(
    session: Session,
    chain: ChainRead,
    violations: tuple[ViolationView, ...],
    links: LinkOut,
    sequences: tuple[int, ...],
) -> tuple[TimelineRow, ...]:
    entries = chain.by_sequence
    grouped = _by_sequence(tuple(v for v in violations if v.usecase == chain.usecase))
    rows: list[TimelineRow] = []
    for seq in sequences:
        entry = entries.get(seq)
        own = tuple(grouped.get(seq, ()))
        if entry is None:
            rows.append(
                TimelineRow(seq, None, "unverified", None, None,
                            "stored entry does not verify; content not shown", (), None, False, own)
            )  # fmt: skip
            continue
        p = entry.predicate
        rows.append(
            TimelineRow(
                sequence=seq,
                time=p.time,
                kind=p.kind,
                stage_before=p.stage.before,
                stage_after=p.stage.after,
                summary=summarize(p),
                signers=_signer_names(session, entry),
                verdict=_verdict(p),
                clean=not own,
                violations=own,
                links=tuple(
                    link
                    for link in (links.prefect_flow_run(p.gate.flow_run if p.gate else None),)
                    if link is not None
                ),
            )
        )
    return tuple(rows)


def _model(chain: ChainRead) -> tuple[str | None, str | None]:
    """The model version of the newest gate that names one: (name, version)."""
    for entry in reversed(chain.state.history):
        gate = entry.predicate.gate
        if gate is not None and gate.model is not None:
            return gate.model.name, gate.model.version
    return None, None


def _monitoring(chain: ChainRead) -> tuple[str | None, object]:
    """The monitoring experiment the newest re-check read: (where, experiment id)."""
    entry = chain.state.last_recheck
    record = entry.predicate.recheck if entry is not None else None
    for check in record.checks if record is not None else ():
        for ev in check.evidence:
            if ev.get("kind") == "mlflow-monitoring" and isinstance(ev.get("uri"), str):
                details = ev.get("details")
                found = details.get("experimentId") if isinstance(details, dict) else None
                return str(ev["uri"]), found
    return None, None


def build_usecase(
    session: Session,
    report: VerificationReport,
    chain: ChainRead,
    now: datetime,
    window: TimelineWindow | None = None,
) -> UseCaseView:
    """The page of ``chain``; its timeline only the entries ``window`` selects, if given."""
    usecase_id = chain.usecase
    spec = session.workspace.usecases.get(usecase_id)
    if chain.sequences:
        banner = page_banner(report, usecase_id, now, chain.has_page)
    else:
        # A use case with a spec and no entries is simply not registered yet.
        banner = page_banner(
            report, usecase_id, now, chain.has_page,
            drop_rules=frozenset({"chain-missing"}), note="no ledger entries yet",
        )  # fmt: skip
    lock = chain.state.lock
    links = LinkOut(session.workspace.settings.links)
    model_name, model_version = _model(chain)
    monitoring, experiment_id = _monitoring(chain)
    sequences = chain.sequences
    paging = None
    if window is not None:
        start, end, paging = window.select(sequences)
        sequences = sequences[start:end]
    return UseCaseView(
        row=usecase_row(session, usecase_id, chain, now, len(banner.violations)),
        has_spec=spec is not None,
        owner=spec.owner if spec else "—",
        sponsors=tuple(f"{s.name}, {s.title}" if s.title else s.name for s in spec.sponsors)
        if spec
        else (),
        spec_file=str(session.workspace.sources[usecase_id].name)
        if usecase_id in session.workspace.sources
        else "",
        budgets=tuple(
            Field(stage_label(stage), f"{amount:,.0f} {spec.currency}/month")
            for stage, amount in spec.budgets.items()
        )
        if spec
        else (),
        deliverables=tuple(Field(name, path) for name, path in spec.evidence.deliverables.items())
        if spec
        else (),
        lock=Field(stage_label(lock.stage), lock.digest) if lock else None,
        banner=banner,
        timeline=_timeline(session, chain, banner.violations, links, sequences),
        paging=paging,
        lane=chain.lane if chain.lane.spans else None,
        generated_at=now,
        model=f"models:/{model_name}/{model_version}" if model_name else None,
        model_link=links.mlflow_model(model_name, model_version),
        monitoring=portable_location(session.workspace, monitoring) if monitoring else None,
        monitoring_link=links.mlflow_experiment(experiment_id),
    )


def usecase_view(
    session: Session, usecase_id: str, now: datetime, window: TimelineWindow | None = None
) -> UseCaseView:
    """One use case: its spec, stage and time box, and every entry of its chain (those
    ``window`` selects, if given)."""
    report, chain = read_chain(session, usecase_id)
    return build_usecase(session, report, chain, now, window)
