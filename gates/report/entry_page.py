"""One entry's page: its record, checks with evidence, signers and verification."""

from __future__ import annotations

import json
from datetime import datetime

from gates.ledger.describe import stage_label, summarize
from gates.ledger.statement import EntryPredicate
from gates.ledger.verify import VerificationReport
from gates.report.banner import page_banner
from gates.report.evidence_view import check_view
from gates.report.models import (
    SIGNATURE_RULES,
    ApprovalRef,
    EntryView,
    Field,
    GateView,
    PageNotFound,
    SignerView,
)
from gates.report.outlinks import LinkOut
from gates.report.reading import ChainRead, read_entry
from gates.workspace.session import Session


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


def _approval_refs(chain: ChainRead, sequences: list[int]) -> tuple[ApprovalRef, ...]:
    """The approvals a gate cites; one that is not in the store is named, not linked."""
    entries = chain.by_sequence
    refs = []
    for seq in sequences:
        approval = entries[seq].predicate.approval if seq in entries else None
        stored = seq in chain.positions
        if approval:
            label = f"{approval.approver} ({approval.role})"
        else:
            label = "entry not verified" if stored else "entry not in the store"
        refs.append(ApprovalRef(seq, label, exists=stored))
    return tuple(refs)


def build_entry(
    session: Session, report: VerificationReport, chain: ChainRead, sequence: int, now: datetime
) -> EntryView:
    usecase_id = chain.usecase
    position = chain.positions.get(sequence)
    if position is None:
        raise PageNotFound(f"no entry {sequence} in the chain of {usecase_id!r}")
    banner = page_banner(report, usecase_id, now, chain.has_page)
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
    workspace = session.workspace
    links = LinkOut(workspace.settings.links)
    gate = None
    if p.gate is not None:
        g = p.gate
        gate = GateView(
            from_stage=g.from_stage,
            to_stage=g.to_stage,
            verdict=g.verdict,
            criteria_digest=g.criteria_digest,
            model=f"models:/{g.model.name}/{g.model.version}" if g.model else None,
            checks=tuple(check_view(workspace, links, c) for c in g.checks),
            approvals=_approval_refs(chain, g.approvals),
            model_link=links.mlflow_model(g.model.name, g.model.version) if g.model else None,
            flow_run=g.flow_run,
            flow_run_link=links.prefect_flow_run(g.flow_run),
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
        record_checks=tuple(check_view(workspace, links, c) for c in p.recheck.checks)
        if p.recheck
        else (),
    )


def entry_view(session: Session, usecase_id: str, sequence: int, now: datetime) -> EntryView:
    """One entry in full: checks, evidence, approvals, records, lock and signatures."""
    if sequence < 0:
        raise PageNotFound(f"no entry {sequence}")
    report, chain = read_entry(session, usecase_id, sequence)
    return build_entry(session, report, chain, sequence, now)
