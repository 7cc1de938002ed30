"""Derive a use case's state by replaying its verified chain, enforcing the roadmap's rules.

There is no other source of truth: stage, days in stage, locked criteria and pending
approvals all come from folding the entries in order. Every illegal step is a
``Violation`` naming the entry and the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from gates.canonical import NonCanonicalValue, digest_of
from gates.ledger.entry import Entry, Violation, parse_entry_key
from gates.ledger.statement import (
    ApprovalRecord,
    CriteriaLock,
    DecisionApproved,
    DecisionRecord,
    TimeBoxExtension,
)
from gates.signing.trust import TrustStore
from gates.stages import ROLLBACKS, STAGE_BY_NAME, Stage, next_stage

#: The entry kinds that may set or change a lock (always signed by the gate's key):
#: nothing an approver, a re-check or a blocked gate signs can move the goal posts.
LOCKING_KINDS = frozenset({"registration", "gate", "amendment", "decision"})


@dataclass(frozen=True)
class ApprovalSeen:
    """A verified approval entry: who signed (by the trusted key's name), for what."""

    role: str
    keyid: str
    #: The approver's name from the trusted-key list, never from the entry's own text.
    key_name: str
    approver: str
    sequence: int
    time: datetime
    to_stage: str
    #: The criteria digest in force that the approval was given under.
    criteria_digest: str


def evolve(state: ChainState, **changes: Any) -> ChainState:
    """``dataclasses.replace`` without its per-call introspection of the fields: replay
    derives a new state for every entry of every chain, and ``replace`` cost about as much
    as hashing the entry."""
    assert changes.keys() <= _STATE_FIELDS, changes.keys() - _STATE_FIELDS
    new = object.__new__(ChainState)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


@dataclass(frozen=True)
class ChainState:
    usecase: str
    stage: Stage | None = None
    entered_at: datetime | None = None
    entered_sequence: int | None = None
    lock: CriteriaLock | None = None
    head_digest: str | None = None
    next_sequence: int = 0
    last_time: datetime | None = None
    #: Promotion approvals given in the current stage, current and superseded alike.
    approvals: tuple[ApprovalSeen, ...] = ()
    amendment_approvals: tuple[tuple[ApprovalSeen, str], ...] = ()
    #: Sponsors' approvals of a No-Go or rollback given in the current stage, with what
    #: each approves (its target stage and criteria digest are on the ``ApprovalSeen``).
    decision_approvals: tuple[tuple[ApprovalSeen, DecisionApproved], ...] = ()
    #: The amendment that last moved the stage's hard maximum (a time-box extension).
    extended_by: int | None = None
    last_gate: Entry | None = None
    #: The newest re-check of the current stage (cleared when the stage changes): its
    #: verdict is the use case's health as the nightly re-check last signed it.
    last_recheck: Entry | None = None
    entries: int = 0
    history: tuple[Entry, ...] = field(default=(), repr=False)

    @property
    def current_approvals(self) -> tuple[ApprovalSeen, ...]:
        """Approvals given under the criteria in force: an amendment makes earlier ones stale."""
        digest = self.lock.digest if self.lock else None
        return tuple(a for a in self.approvals if a.criteria_digest == digest)

    @property
    def superseded_approvals(self) -> tuple[ApprovalSeen, ...]:
        digest = self.lock.digest if self.lock else None
        return tuple(a for a in self.approvals if a.criteria_digest != digest)

    @property
    def digest_in_force(self) -> str:
        """The locked criteria digest approvals bind to ("" in a stage without a lock)."""
        return self.lock.digest if self.lock else ""

    def approvals_of_decision(
        self, decision: str, to_stage: str, reason: str | None = None
    ) -> tuple[tuple[ApprovalSeen, DecisionApproved], ...]:
        """Sponsor approvals of this decision (and ``reason``, when given) under the criteria in force."""
        return tuple(
            (seen, approved)
            for seen, approved in self.decision_approvals
            if seen.role == "sponsor"
            and approved.decision == decision
            and seen.to_stage == to_stage
            and seen.criteria_digest == self.digest_in_force
            and (reason is None or approved.reason == reason)
        )


#: ChainState's fields, to check what ``evolve`` is given.
_STATE_FIELDS = frozenset(f.name for f in fields(ChainState))


def apply_entry(
    state: ChainState,
    entry: Entry,
    trust: TrustStore,
    *,
    keep_history: bool = True,
    position: int | None = None,
) -> tuple[ChainState, list[Violation]]:
    """Fold one verified entry into the state; return violations of link and stage rules.

    The entry is judged at ``position``, where it is stored (by default read from its
    key): an entry claiming another number is already a ``sequence-mismatch``, and its
    other faults belong to where it was found.
    """
    p = entry.predicate
    if position is None:
        stored = parse_entry_key(entry.key)
        position = stored[1] if stored else entry.sequence
    seq = position
    problems: list[Violation] = []

    def violate(rule: str, message: str) -> None:
        problems.append(Violation(state.usecase, seq, rule, message))

    if seq != state.next_sequence:
        violate("sequence-gap", f"expected entry {state.next_sequence}, found {seq}")
    if p.previous != state.head_digest:
        violate(
            "link-broken", f"links to {p.previous}, but the previous entry is {state.head_digest}"
        )
    if state.last_time and p.time < state.last_time:
        violate(
            "time-backwards",
            f"time {p.time.isoformat()} is before the previous entry's {state.last_time.isoformat()}",
        )
    current = state.stage
    before = STAGE_BY_NAME[p.stage.before] if p.stage.before else None
    after = STAGE_BY_NAME[p.stage.after]
    if before != current:
        violate(
            "stage-illegal",
            f"entry claims stage before {_name(before)}, replay says {_name(current)}",
        )

    # What the entry changes, made into the new state once at the end (``evolve``).
    changes: dict[str, Any] = {
        "head_digest": entry.digest,
        "next_sequence": seq + 1,
        "last_time": max(p.time, state.last_time) if state.last_time else p.time,
        "entries": state.entries + 1,
        "history": (*state.history, entry) if keep_history else (),
    }
    moved = after != current

    if p.kind == "registration":
        if current is not None or after is not Stage.EXPLORE:
            violate("stage-illegal", "registration must be the first entry and enter Explore")
    elif current is None:
        violate("stage-illegal", f"{p.kind} entry before the use case was registered")
    elif current is Stage.STOPPED:
        violate("stage-illegal", f"{p.kind} entry after the use case was stopped")
    elif p.kind == "gate" and p.gate is not None:
        g = p.gate
        _check_cited_approvals(state, g.approvals, violate)
        to_stage = STAGE_BY_NAME[g.to_stage]
        if STAGE_BY_NAME[g.from_stage] != current or to_stage != next_stage(current):
            violate(
                "stage-illegal",
                f"gate {g.from_stage}->{g.to_stage} from stage {current.value}: stages move one at a time",
            )
        if g.verdict == "pass":
            if after != to_stage:
                violate(
                    "stage-illegal",
                    f"passing gate to {g.to_stage} but entry moves to {after.value}",
                )
            if state.lock is None or g.criteria_digest != state.lock.digest:
                violate(
                    "criteria-lock",
                    f"gate evaluated under criteria {g.criteria_digest}, locked criteria are "
                    f"{state.lock.digest if state.lock else 'missing'}; an approved amendment is required",
                )
            elif state.lock is not None:
                _check_approval_thresholds(state, state.lock, violate)
                _check_hard_deadline(state, state.lock, p.time, violate)
        elif moved:
            violate(
                "stage-illegal",
                f"a {g.verdict} gate cannot move the stage ({current.value} -> {after.value})",
            )
        changes["last_gate"] = entry
    elif p.kind == "approval" and p.approval is not None:
        if moved:
            violate("stage-illegal", "an approval cannot move the stage")
        a = p.approval
        mismatch = (
            _decision_approval_mismatch(state, current, a)
            if a.purpose == "decision"
            else _stage_approval_mismatch(state, current, a)
        )
        if mismatch:
            violate("approval-mismatch", mismatch)
        else:
            for keyid in sorted(entry.signer_keyids):
                signer = trust.by_keyid[keyid]
                if a.role not in signer.roles or signer.revoked:
                    continue
                seen = ApprovalSeen(
                    a.role, keyid, signer.name, signer.name, seq, p.time,
                    a.to_stage, a.criteria_digest,
                )  # fmt: skip
                if a.purpose == "amendment":
                    given = changes.get("amendment_approvals", state.amendment_approvals)
                    changes["amendment_approvals"] = (*given, (seen, a.criteria_digest))
                elif a.purpose == "decision" and a.decision is not None:
                    given = changes.get("decision_approvals", state.decision_approvals)
                    changes["decision_approvals"] = (*given, (seen, a.decision))
                else:
                    given = changes.get("approvals", state.approvals)
                    changes["approvals"] = (*given, seen)
    elif p.kind == "amendment" and p.amendment is not None:
        if moved:
            violate("stage-illegal", "an amendment cannot move the stage")
        if p.lock is None or STAGE_BY_NAME[p.lock.stage] != current:
            violate("criteria-lock", "amendment must lock new criteria for the current stage")
        else:
            approvers = {
                s.keyid
                for s, digest in state.amendment_approvals
                if digest == p.lock.digest
                and s.sequence in p.amendment.approvals
                and s.role == "sponsor"
            }
            if not approvers:
                violate(
                    "amendment-unapproved",
                    "criteria amendment lacks a sponsor's signed approval of the new criteria digest",
                )
            if p.amendment.previous_digest != (state.lock.digest if state.lock else None):
                violate(
                    "criteria-lock",
                    f"amendment says it replaces {p.amendment.previous_digest}, the lock in "
                    f"force is {state.lock.digest if state.lock else 'missing'}",
                )
            extension = _extension_of(state.lock, p.lock)
            if extension != p.amendment.extension:
                violate(
                    "amendment-extension",
                    "amendment's time-box extension record does not match the locked change "
                    f"of time_box.max_days ({_describe_extension(extension)})",
                )
            elif extension is not None:
                changes["extended_by"] = seq
    elif p.kind == "decision" and p.decision is not None:
        d = p.decision
        if d.decision == "no-go" and after is not Stage.STOPPED:
            violate("stage-illegal", "a no-go decision must stop the use case")
        if d.decision == "rollback" and (current, after) not in ROLLBACKS:
            violate(
                "stage-illegal",
                f"rollback {current.value} -> {after.value} is not a legal backward move",
            )
        if d.to_stage != after.value:
            violate(
                "stage-illegal",
                f"{d.decision} decision names stage {d.to_stage}, but the entry moves to "
                f"{after.value}",
            )
        _check_decision_approved(state, d, violate)
    elif p.kind == "recheck" and p.recheck is not None:
        if moved:
            violate("stage-illegal", "a re-check never moves the stage")
        if STAGE_BY_NAME[p.recheck.stage] != current:
            violate(
                "stage-illegal",
                f"re-check of {p.recheck.stage} while the use case is in {current.value}",
            )
        else:
            changes["last_recheck"] = entry
    else:
        violate("payload-malformed", f"{p.kind} entry without its {p.kind} record")

    if p.lock is not None and (
        p.kind not in LOCKING_KINDS
        or (p.kind == "gate" and (p.gate is None or p.gate.verdict != "pass"))
    ):
        violate(
            "criteria-lock",
            f"a {p.kind} entry carries a criteria lock; only the gate's registration, passing "
            "gate, approved amendment or rollback sets one",
        )
    elif p.lock is not None:
        if _digest_or_none(p.lock.criteria) != p.lock.digest:
            violate(
                "criteria-lock",
                f"locked {p.lock.stage} criteria do not match their digest {p.lock.digest}",
            )
        if STAGE_BY_NAME[p.lock.stage] != after:
            violate(
                "criteria-lock",
                f"entry locks criteria of {p.lock.stage} but the stage is {after.value}",
            )
        changes["lock"] = p.lock
    if moved or p.kind == "registration":
        changes.update(
            stage=after,
            entered_at=p.time,
            entered_sequence=seq,
            approvals=(),
            amendment_approvals=(),
            decision_approvals=(),
            extended_by=None,
            lock=p.lock,
            last_recheck=None,
        )
        if p.lock is None and after not in (Stage.STOPPED, Stage.SCALE):
            violate("criteria-lock", f"entering {after.value} without locking its exit criteria")
    return evolve(state, **changes), problems


def _stage_approval_mismatch(state: ChainState, current: Stage, a: ApprovalRecord) -> str | None:
    """What is wrong with a promotion or amendment approval given in ``current``, if anything."""
    target = next_stage(current)
    if (
        STAGE_BY_NAME[a.from_stage] != current
        or target is None
        or STAGE_BY_NAME[a.to_stage] != target
    ):
        return (
            f"approval of {a.from_stage} -> {a.to_stage} while the use case is in "
            f"{current.value} (next stage: {target.value if target else 'none'})"
        )
    if a.decision is not None:
        return f"a {a.purpose} approval carries a decision; only a decision approval may"
    if a.purpose == "promotion" and (state.lock is None or a.criteria_digest != state.lock.digest):
        return (
            f"approval given under criteria {a.criteria_digest}, but the criteria in "
            f"force are {state.lock.digest if state.lock else 'missing'}"
        )
    return None


def _decision_approval_mismatch(state: ChainState, current: Stage, a: ApprovalRecord) -> str | None:
    """What is wrong with a sponsor's approval of a No-Go or rollback, if anything."""
    if a.decision is None:
        return "a decision approval that does not say which decision it approves"
    if a.role != "sponsor":
        return f"a decision approval signed as {a.role!r}; decisions are approved by a sponsor"
    legal = (
        STAGE_BY_NAME[a.to_stage] is Stage.STOPPED
        if a.decision.decision == "no-go"
        else (current, STAGE_BY_NAME[a.to_stage]) in ROLLBACKS
    )
    if STAGE_BY_NAME[a.from_stage] != current or not legal:
        return (
            f"approval of a {a.decision.decision} {a.from_stage} -> {a.to_stage} while the "
            f"use case is in {current.value}"
        )
    if a.criteria_digest != state.digest_in_force:
        return (
            f"decision approval given under criteria {a.criteria_digest or 'none'}, but the "
            f"criteria in force are {state.digest_in_force or 'none'}"
        )
    return None


def _check_decision_approved(
    state: ChainState, d: DecisionRecord, violate: Callable[[str, str], None]
) -> None:
    """A No-Go or rollback carries out sponsors' signed approvals of exactly this decision.

    Every cited approval must be a sponsor's decision approval of this stage, under the
    criteria in force, naming the same decision, target stage and reason; and the
    recorded decider must be the name of a key that signed one of them.
    """
    matching = {
        seen.sequence: seen
        for seen, _ in state.approvals_of_decision(d.decision, d.to_stage, d.reason)
    }
    if not d.approvals:
        violate(
            "decision-unapproved",
            f"{d.decision} decision cites no sponsor's signed approval of it",
        )
        return
    unmatched = sorted(set(d.approvals) - set(matching))
    if unmatched:
        violate(
            "decision-unapproved",
            f"{d.decision} decision cites {', '.join(f'#{n}' for n in unmatched)}, which "
            f"{'is not' if len(unmatched) == 1 else 'are not'} a sponsor's approval of this "
            f"{d.decision} (to {d.to_stage}, with this reason) under the criteria in force",
        )
    deciders = {matching[n].key_name for n in d.approvals if n in matching}
    if deciders and d.decider not in deciders:
        violate(
            "decision-decider",
            f"decision records {d.decider!r} as the decider; the cited approvals were signed "
            f"by {', '.join(sorted(deciders))}",
        )


def _check_cited_approvals(
    state: ChainState, cited: list[int], violate: Callable[[str, str], None]
) -> None:
    """A gate may only cite approvals of the stage it leaves, given under the criteria in force."""
    of_stage = {a.sequence for a in state.current_approvals}
    foreign = sorted(set(cited) - of_stage)
    if foreign:
        known = ", ".join(f"#{s}" for s in sorted(of_stage)) or "none"
        violate(
            "approvals-cited",
            f"gate cites {', '.join(f'#{s}' for s in foreign)}, which are not approvals of "
            f"stage {state.stage.value if state.stage else 'none'} under the criteria in force "
            f"(such approvals: {known})",
        )


def _check_approval_thresholds(
    state: ChainState, lock: CriteriaLock, violate: Callable[[str, str], None]
) -> None:
    """A pass needs, per role, as many distinct trusted approver keys as the locked criteria say."""
    required = lock.criteria.get("approvals", {})
    if not isinstance(required, dict) or not all(
        isinstance(role, str) and type(n) is int for role, n in required.items()
    ):
        violate(
            "criteria-lock", f"locked criteria's approvals {required!r} are not {{role: count}}"
        )
        return
    for role, needed in sorted(required.items()):
        found = len({a.keyid for a in state.current_approvals if a.role == role})
        if found < needed:
            violate(
                "approvals-missing",
                f"passing gate needs {needed} distinct {role!r} approval key(s) under the locked "
                f"criteria {lock.digest}; found {found}",
            )


def _check_hard_deadline(
    state: ChainState, lock: CriteriaLock, when: datetime, violate: Callable[[str, str], None]
) -> None:
    """A pass after the locked hard maximum is illegal: the Go/No-Go was overdue."""
    box = lock.criteria.get("time_box")
    maximum = box.get("max_days") if isinstance(box, dict) else None
    if not isinstance(maximum, int) or state.entered_at is None:
        return
    days = (when - state.entered_at).total_seconds() / 86400
    if days > maximum:
        violate(
            "time-box-exceeded",
            f"passing gate after {days:.1f} days in {state.stage.value if state.stage else '?'}; "
            f"the locked hard maximum is {maximum} days (an approved extension raises it)",
        )


def _max_days(lock: CriteriaLock | None) -> int | None:
    box = lock.criteria.get("time_box") if lock else None
    value = box.get("max_days") if isinstance(box, dict) else None
    return value if isinstance(value, int) else None


def _extension_of(before: CriteriaLock | None, after: CriteriaLock) -> TimeBoxExtension | None:
    """The time-box extension an amendment from ``before`` to ``after`` amounts to, if any."""
    old, new = _max_days(before), _max_days(after)
    if old == new:
        return None
    return TimeBoxExtension(previous_max_days=old, max_days=new)


def _describe_extension(extension: TimeBoxExtension | None) -> str:
    if extension is None:
        return "unchanged"
    return f"{extension.previous_max_days} -> {extension.max_days} days"


def _digest_or_none(criteria: dict[str, object]) -> str | None:
    """The digest of signed criteria; None when they have no canonical form (never matches)."""
    try:
        return digest_of(criteria)
    except NonCanonicalValue:
        return None


def _name(stage: Stage | None) -> str:
    return stage.value if stage else "none"
