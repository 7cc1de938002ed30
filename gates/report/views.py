"""Page data for the report and the web UI: plain values built from the verified ledger.

Every page says what verification (``verify_ledger``) found, in a banner, and shows only
entries that opened under the same trust. Verification and display read the store once
and check each signature once per page (``read_once``); nothing is kept between pages,
so each page shows the ledger as it is when the page is built.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from gates.engine.status import UseCaseStatus, usecase_status
from gates.ledger.chain import ChainReplay, Ledger
from gates.ledger.describe import recheck_verdict, stage_label, summarize
from gates.ledger.entry import Entry, Violation, open_entry
from gates.ledger.replay import ChainState
from gates.ledger.statement import CheckRecord, EntryPredicate
from gates.ledger.time_evidence import SIMULATED_NOTE
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.report.read_once import page_ledger
from gates.risks import Risk
from gates.roadmap.tracking import Milestone, RoadmapTrack, milestones_of
from gates.stages import Stage
from gates.workspace.session import Session
from gates.workspace.usecase import USECASE_ID

#: Rules that concern an entry's envelope and signatures rather than its place in the chain.
SIGNATURE_RULES = frozenset(
    {
        "envelope-malformed",
        "payload-malformed",
        "signature-invalid",
        "signer-untrusted",
        "signer-revoked",
        "signer-role",
    }
)


class PageNotFound(LookupError):
    """The page names a use case or entry that is neither in the ledger nor in the workspace."""


def is_usecase_id(value: str) -> bool:
    """Whether ``value`` is a well-formed use-case id (and so safe in a path or URL)."""
    return USECASE_ID.fullmatch(value) is not None


# -- view data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str  # ok | warn | danger | muted | info
    title: str = ""


@dataclass(frozen=True)
class ViolationView:
    usecase: str
    sequence: int | None
    rule: str
    message: str
    #: Whether the entry has a page to link to.
    linkable: bool


@dataclass(frozen=True)
class Banner:
    """What verification found, for the scope the page covers."""

    scope: str  # "ledger" or a use-case id
    intact: bool
    entries: int
    chains: int
    violations: tuple[ViolationView, ...]
    checked_at: datetime
    note: str = ""
    #: What verification wants the auditor to know that is not a violation.
    notes: tuple[str, ...] = ()
    #: The ledger holds entries written on a simulated clock: its timings are not evidence.
    simulated_clock: bool = False


@dataclass(frozen=True)
class StageSpan:
    stage: str
    start: datetime
    end: datetime | None  # None: still in this stage


@dataclass(frozen=True)
class GateMark:
    sequence: int
    time: datetime
    from_stage: str
    to_stage: str
    verdict: str


@dataclass(frozen=True)
class Lane:
    """One use case on the calendar: its stages and its gates."""

    usecase: str
    spans: tuple[StageSpan, ...]
    gates: tuple[GateMark, ...]


@dataclass(frozen=True)
class UseCaseRow:
    id: str
    title: str
    department: str
    stage: str
    stage_label: str
    entered_at: datetime | None
    days_in_stage: float | None
    planned_days: int | None
    max_days: int | None
    time_box: str  # within | over-planned | overdue | n/a
    #: The time box in words: "planned 28 d · max 42 d", "planned 90 d" or "—".
    time_box_text: str
    last_gate: str | None
    last_verdict: str | None
    next_checkpoint: str | None
    entries: int
    health: tuple[Badge, ...]
    linkable: bool
    #: The playbook risks present (``gates.risks``), in their documented order.
    risks: tuple[Risk, ...] = ()
    #: Why the risks could not be assessed, if so.
    risk_error: str | None = None
    #: The roadmap, planned against the ledger (``gates.roadmap``), when it can be planned.
    roadmap: RoadmapTrack | None = None
    #: Why the roadmap could not be planned (a bad ``roadmap`` override), if so.
    roadmap_error: str | None = None


@dataclass(frozen=True)
class IndexView:
    workspace: str
    generated_at: datetime
    banner: Banner
    rows: tuple[UseCaseRow, ...]
    lanes: tuple[Lane, ...]


@dataclass(frozen=True)
class TimelineRow:
    sequence: int
    time: datetime | None
    kind: str
    stage_before: str | None
    stage_after: str | None
    summary: str
    signers: tuple[str, ...]
    verdict: str | None
    #: No violation names this entry.
    clean: bool
    violations: tuple[ViolationView, ...]


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class UseCaseView:
    row: UseCaseRow
    has_spec: bool
    owner: str
    sponsors: tuple[str, ...]
    spec_file: str
    budgets: tuple[Field, ...]
    deliverables: tuple[Field, ...]
    lock: Field | None
    banner: Banner
    timeline: tuple[TimelineRow, ...]
    lane: Lane | None
    generated_at: datetime


@dataclass(frozen=True)
class EvidenceView:
    kind: str
    uri: str
    digest: str
    details: str


@dataclass(frozen=True)
class CheckView:
    check: str
    kind: str
    status: str
    reason: str
    observed: str
    expected: str
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True)
class ApprovalRef:
    sequence: int
    label: str


@dataclass(frozen=True)
class GateView:
    from_stage: str
    to_stage: str
    verdict: str
    criteria_digest: str
    model: str | None
    checks: tuple[CheckView, ...]
    approvals: tuple[ApprovalRef, ...]


@dataclass(frozen=True)
class SignerView:
    name: str
    keyid: str
    roles: tuple[str, ...]
    revoked: bool


@dataclass(frozen=True)
class EntryView:
    usecase: str
    title: str
    sequence: int
    key: str
    #: False when the stored bytes did not verify; the content is then not shown at all.
    opened: bool
    kind: str
    time: datetime | None
    actor: str
    tool_version: str
    stage_before: str | None
    stage_after: str | None
    summary: str
    digest: str
    previous: str | None
    spec_digest: str | None
    signature_ok: bool
    signers: tuple[SignerView, ...]
    violations: tuple[ViolationView, ...]
    gate: GateView | None
    record_title: str | None
    record: tuple[Field, ...]
    lock_stage: str | None
    lock_digest: str | None
    lock_criteria: str | None
    previous_sequence: int | None
    next_sequence: int | None
    banner: Banner
    generated_at: datetime
    #: Checks of a non-gate record (a re-check), shown like a gate's.
    record_checks: tuple[CheckView, ...] = ()


# -- reading the ledger once per page -------------------------------------------------------


@dataclass(frozen=True)
class ChainRead:
    """One chain as the page read it."""

    usecase: str
    #: The replayed state. ``history`` holds the verified entries the page needs: all of
    #: them for a use-case page, the entry and the approvals it cites for an entry page,
    #: none for the index.
    state: ChainState
    #: (sequence, store key) of every entry found in the store, verified or not.
    keyed: tuple[tuple[int, str], ...]
    lane: Lane
    #: What the roadmap needs of the verified entries, kept when the entries are let go.
    milestones: tuple[Milestone, ...] = ()

    @cached_property
    def sequences(self) -> tuple[int, ...]:
        return tuple(seq for seq, _ in self.keyed)

    @cached_property
    def by_sequence(self) -> dict[int, Entry]:
        return {e.sequence: e for e in self.state.history}

    @cached_property
    def positions(self) -> dict[int, int]:
        return {seq: i for i, seq in enumerate(self.sequences)}


@dataclass(frozen=True)
class LedgerRead:
    report: VerificationReport
    chains: dict[str, ChainRead]


def _lane(usecase: str, history: tuple[Entry, ...]) -> Lane:
    spans: list[StageSpan] = []
    gates: list[GateMark] = []
    for entry in history:
        p = entry.predicate
        if not spans or spans[-1].stage != p.stage.after:
            if spans:
                spans[-1] = replace(spans[-1], end=p.time)
            spans.append(StageSpan(p.stage.after, p.time, None))
        if p.gate is not None:
            gates.append(
                GateMark(entry.sequence, p.time, p.gate.from_stage, p.gate.to_stage, p.gate.verdict)
            )
    return Lane(usecase, tuple(spans), tuple(gates))


def _chain_read(replayed: ChainReplay, keyed: list[tuple[int, str]], *, keep: bool) -> ChainRead:
    state = replayed.state
    return ChainRead(
        usecase=state.usecase,
        state=state if keep else replace(state, history=()),
        keyed=tuple(keyed),
        lane=_lane(state.usecase, state.history),
        milestones=milestones_of(state.history),
    )


def _empty_chain(usecase_id: str) -> ChainRead:
    return ChainRead(usecase_id, ChainState(usecase=usecase_id), (), Lane(usecase_id, (), ()))


def read_ledger(session: Session) -> LedgerRead:
    """Verify the whole ledger; keep each chain's state and calendar (not its entries)."""
    ledger = page_ledger(session)
    report = verify_ledger(ledger)
    index = ledger.index()
    chains: dict[str, ChainRead] = {}
    # One chain's entries at a time: the calendar is drawn, then the entries are let go.
    for replayed in ledger.replay_all(index, keep_history=True):
        usecase = replayed.state.usecase
        chains[usecase] = _chain_read(replayed, index.chains.get(usecase, []), keep=False)
    return LedgerRead(report, chains)


def _verify_chain(session: Session, usecase_id: str) -> tuple[Ledger, VerificationReport]:
    if not is_usecase_id(usecase_id):
        raise PageNotFound(f"{usecase_id!r} is not a use-case id")
    ledger = page_ledger(session)
    return ledger, verify_ledger(ledger, [usecase_id])


def read_chain(session: Session, usecase_id: str) -> tuple[VerificationReport, ChainRead]:
    """Verify one chain and keep its verified entries; PageNotFound for an unknown id."""
    ledger, report = _verify_chain(session, usecase_id)
    keyed = ledger.entry_keys(usecase_id)
    if not keyed:
        if usecase_id not in session.workspace.usecases:
            raise PageNotFound(f"no use case {usecase_id!r} in the ledger or the workspace")
        return report, _empty_chain(usecase_id)
    replayed = ledger.replay(usecase_id, keep_history=True)
    return report, _chain_read(replayed, keyed, keep=True)


def read_entry(
    session: Session, usecase_id: str, sequence: int
) -> tuple[VerificationReport, ChainRead]:
    """Verify one chain; keep only the entry and the approvals it cites.

    The banner needs the whole chain verified, the page only a few entries: those are
    opened again from the bytes and signature checks verification just made.
    """
    ledger, report = _verify_chain(session, usecase_id)
    keyed = ledger.entry_keys(usecase_id)
    keys = dict(keyed)
    if sequence not in keys:
        raise PageNotFound(f"no entry {sequence} in the chain of {usecase_id!r}")

    def opened(seq: int) -> Entry | None:
        raw = ledger.store.get(keys[seq])
        return open_entry(keys[seq], raw, ledger.trust, usecase_id, seq)[0]

    entries: list[Entry] = []
    entry = opened(sequence)
    if entry is not None:
        entries.append(entry)
        cited = entry.predicate.gate.approvals if entry.predicate.gate else []
        entries.extend(e for seq in cited if seq in keys and (e := opened(seq)) is not None)
    state = ChainState(usecase=usecase_id, history=tuple(entries))
    return report, ChainRead(usecase_id, state, tuple(keyed), Lane(usecase_id, (), ()))


# -- building pages -------------------------------------------------------------------------


def _violation_view(v: Violation, linkable_chains: set[str]) -> ViolationView:
    linkable = v.sequence is not None and v.usecase in linkable_chains
    return ViolationView(v.usecase, v.sequence, v.rule, v.message, linkable)


def _banner(
    report: VerificationReport,
    scope: str,
    now: datetime,
    linkable_chains: set[str],
    *,
    drop_rules: frozenset[str] = frozenset(),
    note: str = "",
) -> Banner:
    violations = tuple(
        _violation_view(v, linkable_chains) for v in report.violations if v.rule not in drop_rules
    )
    return Banner(
        scope=scope,
        intact=not violations,
        entries=report.entries,
        chains=sum(1 for c in report.chains if c.entries),
        violations=violations,
        checked_at=now,
        note=note,
        # The simulated-time note has a line of its own above the verdict.
        notes=tuple(str(n) for n in report.notes if not n.startswith(SIMULATED_NOTE)),
        simulated_clock=report.simulated_clock,
    )


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


def _row(
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
    chains = {uc: read.chains.get(uc) or _empty_chain(uc) for uc in ids}
    linkable = {uc for uc in ids if is_usecase_id(uc)}
    counts = Counter(v.usecase for v in read.report.violations)
    return IndexView(
        workspace=session.workspace.root.name,
        generated_at=now,
        banner=_banner(read.report, "ledger", now, linkable),
        rows=tuple(_row(session, uc, chains[uc], now, counts[uc]) for uc in ids),
        lanes=tuple(chains[uc].lane for uc in ids if chains[uc].lane.spans),
    )


def index_view(session: Session, now: datetime) -> IndexView:
    """The front page: every use case with stage, time box and health; the ledger banner."""
    return build_index(session, read_ledger(session), now)


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


def _timeline(
    session: Session, chain: ChainRead, violations: tuple[ViolationView, ...]
) -> tuple[TimelineRow, ...]:
    entries = chain.by_sequence
    grouped = _by_sequence(tuple(v for v in violations if v.usecase == chain.usecase))
    rows: list[TimelineRow] = []
    for seq in chain.sequences:
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
            )
        )
    return tuple(rows)


def build_usecase(
    session: Session, report: VerificationReport, chain: ChainRead, now: datetime
) -> UseCaseView:
    usecase_id = chain.usecase
    spec = session.workspace.usecases.get(usecase_id)
    linkable = {usecase_id}
    if chain.sequences:
        banner = _banner(report, usecase_id, now, linkable)
    else:
        # A use case with a spec and no entries is simply not registered yet.
        banner = _banner(
            report, usecase_id, now, linkable,
            drop_rules=frozenset({"chain-missing"}), note="no ledger entries yet",
        )  # fmt: skip
    lock = chain.state.lock
    return UseCaseView(
        row=_row(session, usecase_id, chain, now, len(banner.violations)),
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
        timeline=_timeline(session, chain, banner.violations),
        lane=chain.lane if chain.lane.spans else None,
        generated_at=now,
    )


def usecase_view(session: Session, usecase_id: str, now: datetime) -> UseCaseView:
    """One use case: its spec, stage and time box, and every entry of its chain."""
    report, chain = read_chain(session, usecase_id)
    return build_usecase(session, report, chain, now)


def as_text(value: Any) -> str:
    """A short human-readable rendering of an observed/expected value or evidence detail."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _check(c: CheckRecord) -> CheckView:
    evidence = tuple(
        EvidenceView(
            kind=as_text(ev.get("kind")),
            uri=as_text(ev.get("uri")),
            digest=as_text(ev.get("digest")) if ev.get("digest") else "",
            details=as_text(ev["details"]) if ev.get("details") else "",
        )
        for ev in c.evidence
    )
    return CheckView(
        check=c.check,
        kind=c.kind,
        status=c.status,
        reason=c.reason,
        observed=as_text(c.observed),
        expected=as_text(c.expected),
        evidence=evidence,
    )


def _record(p: EntryPredicate) -> tuple[str | None, tuple[Field, ...]]:
    if p.approval is not None:
        a = p.approval
        fields = [
            Field("approver", a.approver),
            Field("role", a.role),
            Field("purpose", a.purpose),
            Field("for", f"{stage_label(a.from_stage)} → {stage_label(a.to_stage)}"),
            Field("criteria digest", a.criteria_digest),
        ]
        if a.note:
            fields.append(Field("note", a.note))
        return "Approval", tuple(fields)
    if p.decision is not None:
        d = p.decision
        return "Decision", (
            Field("decision", d.decision),
            Field("to stage", stage_label(d.to_stage)),
            Field("reason", d.reason),
        )
    if p.amendment is not None:
        m = p.amendment
        return "Criteria amendment", (
            Field("stage", stage_label(m.stage)),
            Field("reason", m.reason),
            Field("previous criteria digest", m.previous_digest),
            Field("approvals (entries)", ", ".join(f"#{n}" for n in m.approvals) or "none"),
        )
    if p.recheck is not None:
        r = p.recheck
        fields = [
            Field("stage", stage_label(r.stage)),
            Field("verdict", r.verdict),
            Field("policy digest", r.policy_digest),
        ]
        if r.alert is not None:
            fields.append(
                Field(
                    "alert", f"{r.alert.status}" + (f": {r.alert.detail}" if r.alert.detail else "")
                )
            )
        return "Re-check", tuple(fields)
    if p.selection is not None:
        s = p.selection
        return "Selection", (
            Field("rank", f"{s.rank} of {s.of}"),
            Field("score", f"{s.score:g}"),
            Field("rationale", s.rationale),
            Field("candidates digest", s.candidates_digest),
        )
    return None, ()


def _approval_refs(entries: dict[int, Entry], sequences: list[int]) -> tuple[ApprovalRef, ...]:
    refs = []
    for seq in sequences:
        approval = entries[seq].predicate.approval if seq in entries else None
        label = f"{approval.approver} ({approval.role})" if approval else "entry not verified"
        refs.append(ApprovalRef(seq, label))
    return tuple(refs)


def build_entry(
    session: Session, report: VerificationReport, chain: ChainRead, sequence: int, now: datetime
) -> EntryView:
    usecase_id = chain.usecase
    position = chain.positions.get(sequence)
    if position is None:
        raise PageNotFound(f"no entry {sequence} in the chain of {usecase_id!r}")
    banner = _banner(report, usecase_id, now, {usecase_id})
    own = tuple(v for v in banner.violations if v.sequence == sequence)
    previous_sequence = chain.sequences[position - 1] if position > 0 else None
    next_sequence = chain.sequences[position + 1] if position + 1 < len(chain.sequences) else None
    spec = session.workspace.usecases.get(usecase_id)
    title = spec.title if spec else "(no spec in this workspace)"
    entries = chain.by_sequence
    entry = entries.get(sequence)
    key = chain.keyed[position][1]
    if entry is None:
        return EntryView(
            usecase=usecase_id, title=title, sequence=sequence, key=key, opened=False,
            kind="unverified", time=None, actor="", tool_version="", stage_before=None,
            stage_after=None, summary="stored entry does not verify; content not shown",
            digest="", previous=None, spec_digest=None, signature_ok=False, signers=(),
            violations=own, gate=None, record_title=None, record=(), lock_stage=None,
            lock_digest=None, lock_criteria=None, previous_sequence=previous_sequence,
            next_sequence=next_sequence, banner=banner, generated_at=now,
        )  # fmt: skip
    p = entry.predicate
    signers = tuple(
        SignerView(s.name, keyid, tuple(sorted(s.roles)), s.revoked)
        if (s := session.trust.by_keyid.get(keyid))
        else SignerView("unknown key", keyid, (), False)
        for keyid in sorted(entry.signer_keyids)
    )
    gate = None
    if p.gate is not None:
        g = p.gate
        gate = GateView(
            from_stage=g.from_stage,
            to_stage=g.to_stage,
            verdict=g.verdict,
            criteria_digest=g.criteria_digest,
            model=f"models:/{g.model.name}/{g.model.version}" if g.model else None,
            checks=tuple(_check(c) for c in g.checks),
            approvals=_approval_refs(entries, g.approvals),
        )
    record_title, record = _record(p)
    return EntryView(
        usecase=usecase_id,
        title=title,
        sequence=sequence,
        key=key,
        opened=True,
        kind=p.kind,
        time=p.time,
        actor=p.actor,
        tool_version=p.tool.version,
        stage_before=p.stage.before,
        stage_after=p.stage.after,
        summary=summarize(p),
        digest=entry.digest,
        previous=p.previous,
        spec_digest=p.spec_digest,
        signature_ok=not any(v.rule in SIGNATURE_RULES for v in own),
        signers=signers,
        violations=own,
        gate=gate,
        record_title=record_title,
        record=record,
        lock_stage=p.lock.stage if p.lock else None,
        lock_digest=p.lock.digest if p.lock else None,
        lock_criteria=json.dumps(p.lock.criteria, indent=2, sort_keys=True, ensure_ascii=False)
        if p.lock
        else None,
        previous_sequence=previous_sequence,
        next_sequence=next_sequence,
        banner=banner,
        generated_at=now,
        record_checks=tuple(_check(c) for c in p.recheck.checks) if p.recheck else (),
    )


def entry_view(session: Session, usecase_id: str, sequence: int, now: datetime) -> EntryView:
    """One entry in full: checks, evidence, approvals, records, lock and signatures."""
    if sequence < 0:
        raise PageNotFound(f"no entry {sequence}")
    report, chain = read_entry(session, usecase_id, sequence)
    return build_entry(session, report, chain, sequence, now)
