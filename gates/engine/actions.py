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
from gates.errors import PromotionRefused, WriteOutcomeUnknown
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.ledger.statement import SelectionRecord
from gates.policy.effective import criteria_digest
from gates.results import Verdict
from gates.signing.signers import Signer
from gates.stages import ROADMAP, ROLLBACKS, Stage, next_stage
from gates.workspace.session import Session

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
    #: The gate evaluated by this call; None when it found the gate already recorded.
    evaluation: GateEvaluation | None
    entry: Entry
    #: What became of the alert about a blocked gate (None for a pass).
    alert: AlertOutcome | None = None
    #: The model alias moved, as ``models:/NAME@ALIAS -> VERSION`` (None if none was due).
    alias: str | None = None

    @property
    def resumed(self) -> bool:
        """Whether the passing gate was already in the ledger and only its follow-ups ran."""
        return self.evaluation is None

    @property
    def promoted(self) -> bool:
        gate = self.entry.predicate.gate
        return gate is not None and gate.verdict == "pass"


def record_gate(
    session: Session,
    state: ChainState,
    evaluation: GateEvaluation,
    *,
    flow_run: str | None = None,
) -> Entry:
    """Sign the gate's result; a pass moves the stage and locks the next stage's criteria.

    ``flow_run`` is the id of the Prefect flow run that evaluated the gate, if one did.
    """
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
    if flow_run:
        gate["flowRun"] = flow_run
    records: dict[str, Any] = {"gate": gate, "specDigest": _spec_digest(session, plan.usecase_id)}
    after = plan.target if passed else plan.stage
    if passed:
        records["lock"] = _lock(session, plan.usecase_id, plan.target)
    try:
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
    except WriteOutcomeUnknown as e:
        rerun = (
            f"re-running `stagegate promote {plan.usecase_id} --to {plan.target.value}` is "
            "safe: it finishes the promotion if a passing entry landed, and evaluates the "
            "gate again if not"
        )
        raise WriteOutcomeUnknown(
            e.message, key=e.key, hint=f"{e.hint}; {rerun}" if e.hint else rerun
        ) from e


def promote(
    session: Session, usecase_id: str, target: Stage, *, now: datetime | None = None
) -> PromotionOutcome:
    """Evaluate the gate in-process, record it, and on a pass move the model alias.

    If the passing gate into ``target`` is already the chain's latest gate (its entry
    landed but the follow-ups did not run, say its answer was lost), nothing is
    evaluated or written again: the follow-ups are finished (``resumed``).
    """
    when = session.clock.stamp(now, what=f"a gate evaluation of {usecase_id}")
    state = session.ledger.state(usecase_id)
    recorded = recorded_promotion(state, target)
    if recorded is not None:
        return PromotionOutcome(None, recorded, alias=finish_promotion(session, state, recorded))
    evaluation = evaluate_gate(session.workspace, state, usecase_id, target, when)
    entry = record_gate(session, state, evaluation)
    alert = notify_gate(session, state, evaluation, entry)
    alias = move_model_alias(session, evaluation)
    return PromotionOutcome(evaluation, entry, alert, alias)


def recorded_promotion(state: ChainState, target: Stage) -> Entry | None:
    """The passing gate that moved the use case into ``target``, if it is the latest gate.

    The use case must be in ``target`` by that very entry: a later rollback, a No-Go or
    another gate means the promotion is history, not something left to finish.
    """
    entry = state.last_gate
    if entry is None or state.stage is not target or state.entered_sequence != entry.sequence:
        return None
    gate = entry.predicate.gate
    if gate is None or gate.verdict != "pass" or gate.to_stage != target.value:
        return None
    return entry


def finish_promotion(session: Session, state: ChainState, entry: Entry) -> str | None:
    """Run a recorded passing gate's follow-ups again; each is idempotent.

    The follow-up is the model alias (setting it to the same version again changes
    nothing). A pass raises no alert, so none can be due. Returns the alias moved.
    """
    due = recorded_alias(session, state, entry)
    return _point_alias(session, *due) if due else None


def recorded_alias(
    session: Session, state: ChainState, entry: Entry
) -> tuple[str, str, str] | None:
    """(model, alias, version) a recorded passing gate points at, or None if none is due.

    The alias is the one in the criteria the gate was judged under, as the ledger
    locked them; whether to move it at all is the use case's ``model.move_alias``.
    """
    gate = entry.predicate.gate
    if gate is None or gate.verdict != "pass" or gate.model is None:
        return None
    alias = _locked_alias(state, gate.from_stage, gate.criteria_digest)
    model = session.workspace.usecase(state.usecase).model
    if not alias or model is None or not model.move_alias:
        return None
    return gate.model.name, alias, gate.model.version


def _locked_alias(state: ChainState, stage: str, digest: str) -> str | None:
    for entry in reversed(state.history):
        lock = entry.predicate.lock
        if lock is not None and lock.stage == stage and lock.digest == digest:
            alias = lock.criteria.get("alias")
            return alias if isinstance(alias, str) and alias else None
    return None


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
    name, version = evaluation.model
    return _point_alias(session, name, alias, version)


def _point_alias(session: Session, name: str, alias: str, version: str) -> str:
    from gates.promotion.mlflow_alias import move_alias

    move_alias(session.workspace.tracking_uri, name, alias, version)
    return alias_text(name, alias, version)


def alias_text(name: str, alias: str, version: str) -> str:
    """How a moved alias is reported: ``models:/NAME@ALIAS -> VERSION``."""
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
