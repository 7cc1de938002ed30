"""Everything that writes the ledger: register, record a gate, approve, amend, decide.

Each action reads the verified chain head, builds one entry and appends it
create-only. A use case's stage changes only here, and only as the rules allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from gates.canonical import digest_of
from gates.engine.gate import GateEvaluation, evaluate_gate
from gates.engine.notify import notify_gate
from gates.engine.session import Session
from gates.errors import PromotionRefused
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.ledger.statement import SelectionRecord
from gates.policy.effective import criteria_digest
from gates.results import Verdict
from gates.signing.signers import Signer
from gates.stages import ROADMAP, ROLLBACKS, Stage, next_stage

if TYPE_CHECKING:
    from gates.alerts import AlertOutcome


def _lock(session: Session, usecase_id: str, stage: Stage) -> dict[str, Any] | None:
    """The criteria lock recorded when ``stage`` starts (none for Scale and Stopped)."""
    if stage in (Stage.SCALE, Stage.STOPPED):
        return None
    criteria = session.workspace.criteria(session.workspace.usecase(usecase_id), stage)
    return {
        "stage": stage.value,
        "digest": criteria_digest(criteria),
        "criteria": criteria.model_dump(mode="json"),
    }


def _spec_digest(session: Session, usecase_id: str) -> str:
    return digest_of(session.workspace.usecase(usecase_id).model_dump(mode="json"))


def register(
    session: Session,
    usecase_id: str,
    *,
    now: datetime | None = None,
    selection: SelectionRecord | None = None,
) -> Entry:
    """Enter Explore: the first entry of a chain, locking Explore's exit criteria.

    ``selection`` records why Explore picked this use case (its score, rank and
    rationale among the scored candidates) in the same signed entry.
    """
    state = session.ledger.state(usecase_id)
    if state.stage is not None:
        raise PromotionRefused(f"{usecase_id}: already registered (stage {state.stage.value})")
    records: dict[str, Any] = {
        "specDigest": _spec_digest(session, usecase_id),
        "lock": _lock(session, usecase_id, Stage.EXPLORE),
    }
    if selection is not None:
        records["selection"] = selection.model_dump(mode="json", by_alias=True)
    return session.ledger.append(
        state,
        session.signer,
        kind="registration",
        after=Stage.EXPLORE,
        actor=session.actor,
        time=now,
        records=records,
    )


@dataclass(frozen=True)
class PromotionOutcome:
    evaluation: GateEvaluation
    entry: Entry
    #: What became of the alert about a blocked gate (None for a pass).
    alert: AlertOutcome | None = None

    @property
    def promoted(self) -> bool:
        return self.evaluation.verdict is Verdict.PASS


def record_gate(session: Session, state: ChainState, evaluation: GateEvaluation) -> Entry:
    """Sign the gate's result; a pass moves the stage and locks the next stage's criteria."""
    plan = evaluation.plan
    passed = evaluation.verdict is Verdict.PASS
    gate: dict[str, Any] = {
        "from": plan.stage.value,
        "to": plan.target.value,
        "verdict": evaluation.verdict.value,
        "criteriaDigest": plan.context.criteria_digest,
        "checks": [r.to_json() for r in evaluation.results],
        "approvals": sorted({a.sequence for a in plan.context.view.approvals}),
    }
    if evaluation.model:
        gate["model"] = {"name": evaluation.model[0], "version": evaluation.model[1]}
    records: dict[str, Any] = {"gate": gate, "specDigest": _spec_digest(session, plan.usecase_id)}
    after = plan.target if passed else plan.stage
    if passed:
        records["lock"] = _lock(session, plan.usecase_id, plan.target)
    return session.ledger.append(
        state,
        session.signer,
        kind="gate",
        after=after,
        actor=session.actor,
        # On the system clock the entry carries the moment it is signed, not when the
        # (possibly long) evaluation began; a simulated clock records the evaluation time.
        time=plan.context.now if session.clock.simulated else None,
        records=records,
    )


def promote(
    session: Session, usecase_id: str, target: Stage, *, now: datetime | None = None
) -> PromotionOutcome:
    """Evaluate the gate in-process, record it, and on a pass move the model alias."""
    when = session.clock.stamp(now, what=f"a gate evaluation of {usecase_id}")
    state = session.ledger.state(usecase_id)
    evaluation = evaluate_gate(session.workspace, state, usecase_id, target, when)
    entry = record_gate(session, state, evaluation)
    alert = notify_gate(session, state, evaluation, entry)
    move_model_alias(session, evaluation)
    return PromotionOutcome(evaluation, entry, alert)


def move_model_alias(session: Session, evaluation: GateEvaluation) -> str | None:
    """After a recorded pass, point the registered model's stage alias at the gated version.

    The ledger, not the alias, is the source of truth (``admit`` reads the ledger), so
    a failed alias move is reported to the caller and does not undo the promotion.
    """
    plan = evaluation.plan
    model = plan.context.usecase.model
    alias = plan.criteria.alias
    if evaluation.verdict is not Verdict.PASS or not alias or evaluation.model is None:
        return None
    if model is None or not model.move_alias:
        return None
    from gates.promotion.mlflow_alias import move_alias

    name, version = evaluation.model
    move_alias(session.workspace.tracking_uri, name, alias, version)
    return f"models:/{name}@{alias} -> {version}"


def approve(
    session: Session,
    usecase_id: str,
    approver_signer: Signer,
    *,
    role: str,
    note: str = "",
    purpose: Literal["promotion", "amendment"] = "promotion",
    now: datetime | None = None,
) -> Entry:
    """An approver's own key signs off the move to the next stage (or a criteria amendment).

    The approval names the target stage and the criteria digest it approves: the one in
    force (or, for an amendment, the one proposed), so it cannot be carried over to other
    criteria. The approver's name is the trusted-key list's name for the signing key.
    """
    signer_entry = session.trust.by_keyid.get(approver_signer.keyid)
    if signer_entry is None:
        raise PromotionRefused(
            f"{usecase_id}: key {approver_signer.keyid[:12]} is not in the trusted-key list",
            hint="add its public key under [[trusted_keys]] with the role it signs for",
        )
    if role not in signer_entry.roles or signer_entry.revoked:
        held = ", ".join(sorted(signer_entry.roles)) or "none"
        raise PromotionRefused(
            f"{usecase_id}: {signer_entry.name}'s key may not sign as {role!r} "
            f"(its roles: {held}{'; revoked' if signer_entry.revoked else ''})"
        )
    approver = signer_entry.name
    state = session.ledger.state(usecase_id)
    if state.stage is None or next_stage(state.stage) is None:
        raise PromotionRefused(
            f"{usecase_id}: nothing to approve in stage {state.stage.value if state.stage else 'none'}"
        )
    target = next_stage(state.stage)
    assert target is not None
    if purpose == "amendment":
        lock = _lock(session, usecase_id, state.stage)
        digest = lock["digest"] if lock else ""
        if state.lock and digest == state.lock.digest:
            raise PromotionRefused(
                f"{usecase_id}: the spec's criteria equal the locked ones; nothing to amend"
            )
    else:
        digest = state.lock.digest if state.lock else ""
    record = {
        "purpose": purpose,
        "role": role,
        "approver": approver,
        "from": state.stage.value,
        "to": target.value,
        "criteriaDigest": digest,
        "note": note,
    }
    return session.ledger.append(
        state,
        approver_signer,
        kind="approval",
        after=state.stage,
        actor=approver,
        time=now,
        records={"approval": record},
    )


def amend(session: Session, usecase_id: str, *, reason: str, now: datetime | None = None) -> Entry:
    """Re-lock the current stage's criteria from the spec, citing sponsor approvals of the new digest."""
    state = session.ledger.state(usecase_id)
    if state.stage is None or state.lock is None:
        raise PromotionRefused(f"{usecase_id}: no locked criteria to amend")
    lock = _lock(session, usecase_id, state.stage)
    assert lock is not None
    approvals = sorted(
        s.sequence for s, digest in state.amendment_approvals if digest == lock["digest"]
    )
    if not approvals:
        raise PromotionRefused(
            f"{usecase_id}: amending the {state.stage.value} criteria needs a sponsor's signed approval first",
            hint=f"stagegate approve {usecase_id} --role sponsor --amendment --key SPONSOR_KEY",
        )
    record: dict[str, Any] = {
        "stage": state.stage.value,
        "reason": reason,
        "previousDigest": state.lock.digest,
        "approvals": approvals,
    }
    before = state.lock.criteria.get("time_box") or {}
    after = lock["criteria"].get("time_box") or {}
    if before.get("max_days") != after.get("max_days"):
        # A moved hard maximum is a time-box extension: recorded as such, so the reason and
        # the new deadline are what an auditor reads first.
        record["extension"] = {
            "previousMaxDays": before.get("max_days"),
            "maxDays": after.get("max_days"),
        }
    return session.ledger.append(
        state,
        session.signer,
        kind="amendment",
        after=state.stage,
        actor=session.actor,
        time=now,
        records={"amendment": record, "lock": lock},
    )


def decide(
    session: Session,
    usecase_id: str,
    decision: Literal["no-go", "rollback"],
    *,
    reason: str,
    to: Stage | None = None,
    now: datetime | None = None,
) -> Entry:
    """A signed No-Go (stop) or rollback (one legal step back), with its reason."""
    state = session.ledger.state(usecase_id)
    if state.stage is None or state.stage is Stage.STOPPED:
        raise PromotionRefused(
            f"{usecase_id}: no decision possible in stage {state.stage.value if state.stage else 'none'}"
        )
    if decision == "no-go":
        after = Stage.STOPPED
    else:
        if to is None or (state.stage, to) not in ROLLBACKS:
            legal = ", ".join(b.value for a, b in sorted(ROLLBACKS) if a == state.stage) or "none"
            raise PromotionRefused(
                f"{usecase_id}: cannot roll back from {state.stage.value} to {to.value if to else '?'} "
                f"(legal: {legal})"
            )
        after = to
    records: dict[str, Any] = {
        "decision": {"decision": decision, "reason": reason, "to": after.value}
    }
    lock = _lock(session, usecase_id, after)
    if lock:
        records["lock"] = lock
    return session.ledger.append(
        state,
        session.signer,
        kind="decision",
        after=after,
        actor=session.actor,
        time=now,
        records=records,
    )


@dataclass(frozen=True)
class Admission:
    admitted: bool
    reason: str
    entry: Entry | None = None


def admit(session: Session, usecase_id: str, stage: Stage, model: str, version: str) -> Admission:
    """Is ``model``/``version`` admitted to ``stage``? Only a verified passing gate says yes."""
    state = session.ledger.state(usecase_id)
    current = state.stage
    if (
        current is None
        or current is Stage.STOPPED
        or current not in ROADMAP
        or stage not in ROADMAP
        or ROADMAP.index(current) < ROADMAP.index(stage)
    ):
        return Admission(
            False,
            f"{usecase_id} is in stage {current.value if current else 'none'}, not {stage.value}",
        )
    for entry in reversed(state.history):
        gate = entry.predicate.gate
        if (
            entry.predicate.kind == "gate"
            and gate
            and gate.verdict == "pass"
            and gate.to_stage == stage.value
        ):
            if gate.model and (gate.model.name, gate.model.version) == (model, version):
                return Admission(
                    True,
                    f"passing gate #{entry.sequence} admitted {model}/{version} to {stage.value}",
                    entry,
                )
            gated = f"{gate.model.name}/{gate.model.version}" if gate.model else "no model version"
            return Admission(
                False,
                f"the passing gate #{entry.sequence} into {stage.value} admitted {gated}",
                entry,
            )
    return Admission(False, f"no passing gate into {stage.value} in the ledger of {usecase_id}")


def utcnow() -> datetime:
    return datetime.now(UTC)
