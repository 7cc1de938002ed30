"""Everything that writes the ledger: register, record a gate, approve, amend, decide.

Each action reads the verified chain head, builds one entry and appends it
create-only. A use case's stage changes only here, and only as the rules allow.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from gates.canonical import digest_of
from gates.checks.interface import CheckRegistry
from gates.checks.registry import DEFAULT_CHECKS
from gates.engine.followups import (
    alias_not_moved,
    finish_promotion,
    move_model_alias,
    recorded_promotion,
)
from gates.engine.gate import GateEvaluation, GatePlan, plan_gate, run_gate
from gates.engine.notify import notify_gate
from gates.errors import PromotionRefused, WriteOutcomeUnknown
from gates.extras import GATE, require
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.ledger.statement import SelectionRecord
from gates.policy.effective import criteria_digest
from gates.policy.merge import did_you_mean
from gates.results import Verdict
from gates.signing.signers import Signer
from gates.stages import ROADMAP, ROLLBACKS, Stage, next_stage
from gates.workspace.session import Session

if TYPE_CHECKING:
    from gates.alerts import AlertOutcome


def lock_record(session: Session, usecase_id: str, stage: Stage) -> dict[str, Any] | None:
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
        "lock": lock_record(session, usecase_id, Stage.EXPLORE),
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
        records["lock"] = lock_record(session, plan.usecase_id, plan.target)
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


def plan_promotion(
    session: Session,
    state: ChainState,
    usecase_id: str,
    target: Stage,
    now: datetime | None = None,
    *,
    checks: CheckRegistry = DEFAULT_CHECKS,
) -> GatePlan:
    """Plan the gate at the time the session's clock allows (``Clock.stamp``).

    Illegal moves (skips, backward, from Stopped) are refused here, before any check runs;
    so is a gate whose checks could not run here for want of the ``gate`` extra, which
    would otherwise be signed as a gate that errored.
    """
    if checks is DEFAULT_CHECKS:
        require(GATE, f"the gate of {usecase_id}")
    when = session.clock.stamp(now, what=f"a gate evaluation of {usecase_id}")
    return plan_gate(session.workspace, state, usecase_id, target, when, checks=checks)


def promote(
    session: Session,
    usecase_id: str,
    target: Stage,
    *,
    now: datetime | None = None,
    checks: CheckRegistry = DEFAULT_CHECKS,
) -> PromotionOutcome:
    """Evaluate the gate in-process, record it, and on a pass move the model alias.

    The steps, which the gate flow (``flows.gate_flow``) takes too, each as its task:
    finish a recorded pass (``recorded_promotion``, ``finish_promotion``), else plan
    (``plan_promotion``), run the checks and conclude (``run_gate``), record
    (``record_gate``), alert (``notify_gate``), move the alias (``move_model_alias``).

    If the passing gate into ``target`` is already the chain's latest gate (its entry
    landed but the follow-ups did not run, say its answer was lost), nothing is
    evaluated or written again: the follow-ups are finished (``resumed``). A recorded
    pass whose alias cannot move raises ``alias_not_moved``: the promotion stands.
    """
    state = session.ledger.state(usecase_id)
    recorded = recorded_promotion(state, target)
    if recorded is not None:
        try:
            alias = finish_promotion(session, state, recorded)
        except Exception as e:
            raise alias_not_moved(usecase_id, recorded, e) from e
        return PromotionOutcome(None, recorded, alias=alias)
    plan = plan_promotion(session, state, usecase_id, target, now, checks=checks)
    evaluation = run_gate(plan)
    entry = record_gate(session, state, evaluation)
    alert = notify_gate(session, state, evaluation, entry)
    try:
        alias = move_model_alias(session, evaluation)
    except Exception as e:
        raise alias_not_moved(usecase_id, entry, e) from e
    return PromotionOutcome(evaluation, entry, alert, alias)


def _approver_name(session: Session, usecase_id: str, signer: Signer, role: str) -> str:
    """The trusted-key list's name for ``signer``'s key, refusing a key without ``role``."""
    signer_entry = session.trust.by_keyid.get(signer.keyid)
    if signer_entry is None:
        raise PromotionRefused(
            f"{usecase_id}: key {signer.keyid[:12]} is not in the trusted-key list",
            hint="add its public key under [[trusted_keys]] with the role it signs for",
        )
    if role not in signer_entry.roles or signer_entry.revoked:
        held = ", ".join(sorted(signer_entry.roles)) or "none"
        raise PromotionRefused(
            f"{usecase_id}: {signer_entry.name}'s key may not sign as {role!r}"
            f"{did_you_mean(role, signer_entry.roles)} "
            f"(its roles: {held}{'; revoked' if signer_entry.revoked else ''})"
        )
    return signer_entry.name


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
    approver = _approver_name(session, usecase_id, approver_signer, role)
    state = session.ledger.state(usecase_id)
    if state.stage is None:
        session.workspace.usecase(usecase_id)  # an unknown id is named as such
        raise PromotionRefused(
            f"{usecase_id}: not registered yet; there is nothing to approve",
            hint=f"run `stagegate register {usecase_id}` to enter Explore first",
        )
    if next_stage(state.stage) is None:
        raise PromotionRefused(f"{usecase_id}: nothing to approve in stage {state.stage.value}")
    target = next_stage(state.stage)
    assert target is not None
    if purpose == "amendment":
        lock = lock_record(session, usecase_id, state.stage)
        digest = lock["digest"] if lock else ""
        if state.lock and digest == state.lock.digest:
            raise PromotionRefused(
                f"{usecase_id}: the spec's criteria equal the locked ones; nothing to amend"
            )
    else:
        digest = state.lock.digest if state.lock else ""
    _refuse_duplicate(state, usecase_id, approver_signer.keyid, role, digest, purpose)
    record = {
        "purpose": purpose,
        "role": role,
        "approver": approver,
        "from": state.stage.value,
        "to": target.value,
        "criteriaDigest": digest,
        "note": note,
    }
    return _append_approval(session, state, approver_signer, approver, record, now)


def _refuse_duplicate(
    state: ChainState,
    usecase_id: str,
    keyid: str,
    role: str,
    digest: str,
    purpose: Literal["promotion", "amendment"],
) -> None:
    """An approval counts once per key, role and criteria: a second one would say nothing new."""
    given = (
        tuple(seen for seen in state.current_approvals if seen.criteria_digest == digest)
        if purpose == "promotion"
        else tuple(seen for seen, approved in state.amendment_approvals if approved == digest)
    )
    for seen in given:
        if seen.keyid == keyid and seen.role == role:
            what = "these criteria" if purpose == "promotion" else "this amendment"
            raise PromotionRefused(
                f"{usecase_id}: {seen.approver} already approved as {role} under {what} "
                f"(entry #{seen.sequence}); an approval counts once per key, so nothing was written"
            )


def amend(session: Session, usecase_id: str, *, reason: str, now: datetime | None = None) -> Entry:
    """Re-lock the current stage's criteria from the spec, citing sponsor approvals of the new digest."""
    state = session.ledger.state(usecase_id)
    if state.stage is None or state.lock is None:
        raise PromotionRefused(f"{usecase_id}: no locked criteria to amend")
    lock = lock_record(session, usecase_id, state.stage)
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


Decision = Literal["no-go", "rollback"]


def decision_target(
    state: ChainState, usecase_id: str, decision: Decision, to: Stage | None
) -> Stage:
    """Where ``decision`` takes the use case from its current stage; refused if illegal."""
    if state.stage is None or state.stage is Stage.STOPPED:
        raise PromotionRefused(
            f"{usecase_id}: no decision possible in stage {state.stage.value if state.stage else 'none'}"
        )
    if decision == "no-go":
        return Stage.STOPPED
    if to is None or (state.stage, to) not in ROLLBACKS:
        legal = ", ".join(b.value for a, b in sorted(ROLLBACKS) if a == state.stage) or "none"
        raise PromotionRefused(
            f"{usecase_id}: cannot roll back from {state.stage.value} to {to.value if to else '?'} "
            f"(legal: {legal})"
        )
    return to


def approve_decision(
    session: Session,
    usecase_id: str,
    sponsor_signer: Signer,
    decision: Decision,
    *,
    reason: str,
    to: Stage | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Entry:
    """A sponsor's own key approves a No-Go or a rollback, with its reason and target stage.

    The approval binds to the criteria digest in force; the gate then writes the
    ``decision`` entry citing it (``decide``).
    """
    approver = _approver_name(session, usecase_id, sponsor_signer, "sponsor")
    if not reason.strip():
        raise PromotionRefused(f"{usecase_id}: a decision needs its reason (--reason)")
    state = session.ledger.state(usecase_id)
    after = decision_target(state, usecase_id, decision, to)
    assert state.stage is not None
    record = {
        "purpose": "decision",
        "role": "sponsor",
        "approver": approver,
        "from": state.stage.value,
        "to": after.value,
        "criteriaDigest": state.digest_in_force,
        "note": note,
        "decision": {"decision": decision, "reason": reason},
    }
    return _append_approval(session, state, sponsor_signer, approver, record, now)


def _append_approval(
    session: Session,
    state: ChainState,
    signer: Signer,
    approver: str,
    record: Mapping[str, object],
    now: datetime | None,
) -> Entry:
    """Sign ``record`` as an approval entry with the approver's own key; the stage stays."""
    assert state.stage is not None  # callers refused an unregistered use case
    return session.ledger.append(
        state,
        signer,
        kind="approval",
        after=state.stage,
        actor=approver,
        time=now,
        records={"approval": dict(record)},
    )


def decide(
    session: Session,
    usecase_id: str,
    decision: Decision,
    *,
    reason: str | None,
    to: Stage | None = None,
    now: datetime | None = None,
    sponsor: Signer | None = None,
) -> Entry:
    """A No-Go (stop) or rollback (one legal step back), on a sponsor's signed approval.

    With ``sponsor``, that sponsor's key first signs the decision approval
    (``approve_decision``). Then the gate writes the ``decision`` entry, citing every
    sponsor approval of this decision under the criteria in force, and naming the
    decider (the trusted-key list's name for the newest one's key). Without an approval
    it refuses. ``reason`` None takes the approved reason (the newest approval's).
    """
    state = session.ledger.state(usecase_id)
    after = decision_target(state, usecase_id, decision, to)
    if sponsor is not None:
        if reason is None:
            raise PromotionRefused(f"{usecase_id}: a decision needs its reason (--reason)")
        approve_decision(session, usecase_id, sponsor, decision, reason=reason, to=after, now=now)
        state = session.ledger.state(usecase_id)
    approved = state.approvals_of_decision(decision, after.value, reason)
    if not approved:
        reason_arg = shlex.quote(reason) if reason else "'…'"
        to_arg = f" --to {after.value}" if decision == "rollback" else ""
        raise PromotionRefused(
            f"{usecase_id}: a {decision} needs a sponsor's signed approval of it"
            + (" with this reason" if reason else "")
            + (f" (to {after.value})" if decision == "rollback" else "")
            + " under the criteria in force",
            hint=f"stagegate decide {usecase_id} {decision}{to_arg} --reason {reason_arg} "
            "--key SPONSOR_KEY (the sponsor signs, then the gate records), or the sponsor "
            f"first: stagegate approve {usecase_id} --role sponsor --decision {decision}"
            f"{to_arg} --reason {reason_arg} --key SPONSOR_KEY",
        )
    newest, chosen = approved[-1]
    records: dict[str, Any] = {
        "decision": {
            "decision": decision,
            "reason": chosen.reason,
            "to": after.value,
            "approvals": sorted(
                {seen.sequence for seen, a in approved if a.reason == chosen.reason}
            ),
            "decider": newest.key_name,
        }
    }
    lock = lock_record(session, usecase_id, after)
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
