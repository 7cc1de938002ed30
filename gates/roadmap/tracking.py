"""Planned against actual, from the verified ledger and nothing else.

Rules, so that every figure can be re-derived from the signed entries:

- A stage's actual start is the time of the entry that moved the use case into it
  (the registration for Explore, a passing gate, a rollback decision); its actual end
  is the time of the entry that moved it out.
- Slip is counted in whole UTC calendar days, positive when late. A stage's start slip
  compares its first actual start with its planned start. A left stage's slip compares
  the day it was left with the day it was planned to be left. The current stage's slip
  is what it will at least be: the later of its start slip (it still needs its planned
  length) and the days already past its planned end.
- An ``exit`` decision is taken by the passing gate that moves the use case out of the
  stage; a ``review`` by a re-check that found the stage healthy (verdict ok) since the
  use case last entered it, or by moving past the stage. A No-Go answers the decision of
  the stage it stops in ("no-go") and cancels the decisions after it. An open decision
  is overdue once its due day has passed, upcoming when due within 14 days.
- A rollback re-plans: the stage it returns to gets its planned length again from the
  rollback day, so every open decision about that stage or a later one moves by as
  many days as that stage now starts late.
- Scale reviews apply while the use case is in Production or Scale, every 13 weeks
  from its latest entry into Production. A review is held when its quarter (the 13 weeks
  up to its due day) has a gate out of Production, a decision, or a re-check of Scale.
  Only the latest review already due can be overdue; the next one is listed too.

Results are NamedTuples rather than dataclasses: ``status`` loads this module on every
start, and a NamedTuple costs a tenth as much to define.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from gates.roadmap.template import (
    QUARTER_WEEKS,
    SCALE_REVIEW,
    PlannedDecision,
    PlannedStage,
    Roadmap,
    plan_for,
)
from gates.stages import ROADMAP, Stage, next_stage
from gates.workspace.usecase import UseCaseSpec

if TYPE_CHECKING:
    from gates.ledger.entry import Entry

UPCOMING_DAYS = 14

MilestoneKind = Literal["registration", "gate", "decision", "recheck", "move"]
StageState = Literal["done", "current", "upcoming", "rolled-back", "stopped", "not-reached"]
DecisionState = Literal["taken", "no-go", "overdue", "upcoming", "open", "cancelled"]
LeftBy = Literal["gate", "rollback", "no-go", "move"]

#: Re-check verdicts that show a stage stable: a warning (e.g. cost near the 80 % mark)
#: is worth watching but is no failure.
HEALTHY = frozenset({"ok", "warn"})


class Milestone(NamedTuple):
    """One ledger fact the roadmap needs, small enough to keep a chain's worth in memory."""

    sequence: int
    time: datetime
    kind: MilestoneKind
    before: Stage | None
    after: Stage
    #: For a gate, the stage it leaves; for a re-check, the stage it checked.
    subject: Stage | None = None
    #: Gate verdict, decision (no-go or rollback) or re-check verdict.
    outcome: str | None = None

    @property
    def moves(self) -> bool:
        return self.kind == "registration" or self.before != self.after


def milestones_of(history: Iterable[Entry]) -> tuple[Milestone, ...]:
    """The entries that matter to the roadmap, from a verified chain in order.

    Every stage move, gate and decision is kept. Of the re-checks only what a decision
    can rest on is kept: the first healthy re-check of a stage per visit, and one re-check
    of Scale per week (Scale reviews are quarterly), so nightly re-checks stay cheap.
    """
    kept: list[Milestone] = []
    seen: set[tuple[object, ...]] = set()
    visit = -1
    for entry in history:
        p = entry.predicate
        before = Stage(p.stage.before) if p.stage.before else None
        after = Stage(p.stage.after)
        if p.gate is not None:
            subject = Stage(p.gate.from_stage)
            kept.append(
                Milestone(entry.sequence, p.time, "gate", before, after, subject, p.gate.verdict)
            )
        elif p.decision is not None:
            kept.append(
                Milestone(
                    entry.sequence, p.time, "decision", before, after, None, p.decision.decision
                )
            )
        elif p.recheck is not None:
            checked = Stage(p.recheck.stage)
            if checked is Stage.SCALE:
                iso = p.time.astimezone(UTC).isocalendar()
                key: tuple[object, ...] = ("scale", iso.year, iso.week)
            elif p.recheck.verdict in HEALTHY:
                key = ("ok", checked.value, visit)
            else:
                continue
            if key in seen:
                continue
            seen.add(key)
            kept.append(
                Milestone(
                    entry.sequence, p.time, "recheck", before, after, checked, p.recheck.verdict
                )
            )
        elif p.kind == "registration" or before != after:
            kind: MilestoneKind = "registration" if p.kind == "registration" else "move"
            kept.append(Milestone(entry.sequence, p.time, kind, before, after))
        if p.kind == "registration" or before != after:
            visit = entry.sequence
    return tuple(kept)


class Visit(NamedTuple):
    """One stretch of time in a stage, as the ledger records it."""

    start: datetime
    end: datetime | None
    entered_by: int
    left_by: LeftBy | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "enteredBy": self.entered_by,
            "leftBy": self.left_by,
        }


class StageTrack(NamedTuple):
    stage: Stage
    planned: PlannedStage | None
    visits: tuple[Visit, ...]
    state: StageState
    start_slip_days: int | None
    slip_days: int | None

    @property
    def actual_start(self) -> datetime | None:
        return self.visits[0].start if self.visits else None

    @property
    def actual_end(self) -> datetime | None:
        return self.visits[-1].end if self.visits else None

    def to_json(self) -> dict[str, object]:
        p = self.planned
        start, end = self.actual_start, self.actual_end
        return {
            "stage": self.stage.value,
            "label": self.stage.label,
            "state": self.state,
            "firstWeek": p.first_week if p else None,
            "lastWeek": p.last_week if p else None,
            "plannedStart": p.start.isoformat() if p else None,
            "plannedEnd": p.end.isoformat() if p and p.end else None,
            "actualStart": start.isoformat() if start else None,
            "actualEnd": end.isoformat() if end else None,
            "startSlipDays": self.start_slip_days,
            "slipDays": self.slip_days,
            "visits": [v.to_json() for v in self.visits],
        }


class DecisionTrack(NamedTuple):
    planned: PlannedDecision
    #: The day it is due: the planned day, moved when a rollback re-planned the roadmap.
    due: date
    state: DecisionState
    taken_at: datetime | None = None
    entry: int | None = None
    days_overdue: int | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        return self.planned.label

    @property
    def open(self) -> bool:
        return self.state in ("overdue", "upcoming", "open")

    def to_json(self) -> dict[str, object]:
        return {
            "week": self.planned.week,
            "label": self.planned.label,
            "stage": self.planned.stage.value,
            "kind": self.planned.kind,
            "plannedDue": self.planned.due.isoformat(),
            "due": self.due.isoformat(),
            "state": self.state,
            "daysOverdue": self.days_overdue,
            "takenAt": self.taken_at.isoformat() if self.taken_at else None,
            "entry": self.entry,
            "note": self.note,
        }


class RoadmapTrack(NamedTuple):
    """One use case's roadmap: its plan, what the ledger shows, and the decisions due."""

    usecase: str
    at: datetime
    plan: Roadmap | None
    stage: Stage | None
    stages: tuple[StageTrack, ...]
    decisions: tuple[DecisionTrack, ...]
    stopped_at: datetime | None
    note: str

    @property
    def current(self) -> StageTrack | None:
        return next((s for s in self.stages if s.state == "current"), None)

    @property
    def slip_days(self) -> int | None:
        """Slip of the current stage (None when stopped, not registered or not planned)."""
        current = self.current
        return current.slip_days if current else None

    @property
    def overdue(self) -> tuple[DecisionTrack, ...]:
        return tuple(d for d in self.decisions if d.state == "overdue")

    @property
    def upcoming(self) -> tuple[DecisionTrack, ...]:
        return tuple(d for d in self.decisions if d.state == "upcoming")

    @property
    def next_decision(self) -> DecisionTrack | None:
        """The open decision due first (an overdue one, when there is one)."""
        waiting = [d for d in self.decisions if d.open]
        return min(waiting, key=lambda d: (d.due, d.planned.week)) if waiting else None

    def to_json(self) -> dict[str, object]:
        """The shape of ``stagegate roadmap --json``: an array of these, one per use case.

        ``id``; ``stage`` (as in ``status``, or ``unregistered``); ``at`` (ISO time the
        roadmap is judged at); ``start``, ``startSource`` (``roadmap.start_date``,
        ``start_date`` or ``registration``; both null with nothing to plan from);
        ``overrides`` (spec parts that change the template); ``note``; ``slipDays`` (of the
        current stage, positive late); ``currentStagePlannedEnd``; ``stoppedAt``;
        ``stages[]`` (``stage``, ``label``, ``state``: done, current, upcoming,
        rolled-back, stopped, not-reached; ``firstWeek``, ``lastWeek``,
        ``plannedStart``, ``plannedEnd`` (last planned day, null when ongoing),
        ``actualStart``, ``actualEnd``, ``startSlipDays``, ``slipDays``, ``visits[]``
        with ``start``, ``end``, ``enteredBy``, ``leftBy``); ``decisions[]`` (``week``,
        ``label``, ``stage``, ``kind``: exit, review, scale-review; ``plannedDue``,
        ``due``, ``state``: taken, no-go, overdue, upcoming, open, cancelled;
        ``daysOverdue``, ``takenAt``, ``entry``, ``note``); ``nextDecision`` (a decision
        or null); ``upcoming[]`` and ``overdue[]`` (decisions). Dates are ISO days,
        times ISO 8601 with offset.
        """
        current = self.current
        planned_end = current.planned.end if current and current.planned else None
        nxt = self.next_decision
        return {
            "id": self.usecase,
            "stage": self.stage.value if self.stage else "unregistered",
            "at": self.at.isoformat(),
            "start": self.plan.start.isoformat() if self.plan else None,
            "startSource": self.plan.start_source if self.plan else None,
            "overrides": list(self.plan.overrides) if self.plan else [],
            "note": self.note,
            "slipDays": self.slip_days,
            "currentStagePlannedEnd": planned_end.isoformat() if planned_end else None,
            "stoppedAt": self.stopped_at.isoformat() if self.stopped_at else None,
            "stages": [s.to_json() for s in self.stages],
            "decisions": [d.to_json() for d in self.decisions],
            "nextDecision": nxt.to_json() if nxt else None,
            "upcoming": [d.to_json() for d in self.upcoming],
            "overdue": [d.to_json() for d in self.overdue],
        }


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _days(moment: datetime, planned: date) -> int:
    return (_day(moment) - planned).days


def _rank(stage: Stage) -> int:
    return ROADMAP.index(stage)


def _visits(milestones: Sequence[Milestone]) -> list[tuple[Stage, Visit]]:
    visits: list[tuple[Stage, Visit]] = []
    for m in milestones:
        if not m.moves:
            continue
        if visits and visits[-1][1].end is None:
            left: LeftBy = "move"
            if m.kind == "gate":
                left = "gate"
            elif m.kind == "decision" and m.outcome in ("rollback", "no-go"):
                left = "rollback" if m.outcome == "rollback" else "no-go"
            stage, open_visit = visits[-1]
            visits[-1] = (stage, open_visit._replace(end=m.time, left_by=left))
        if m.after is not Stage.STOPPED:
            visits.append((m.after, Visit(m.time, None, m.sequence)))
    return visits


class _Ledger(NamedTuple):
    """What the decisions are judged against."""

    milestones: tuple[Milestone, ...]
    current: Stage | None
    #: The stage a No-Go stopped the use case in, and when.
    stopped_in: Stage | None
    stopped_at: datetime | None
    visits: tuple[tuple[Stage, Visit], ...]
    at: date

    @property
    def reached(self) -> Stage | None:
        """The stage the use case is in, or was in when it was stopped."""
        return self.stopped_in if self.current is Stage.STOPPED else self.current

    def past(self, stage: Stage) -> bool:
        reached = self.reached
        return reached is not None and reached in ROADMAP and _rank(reached) > _rank(stage)

    def last_exit(self, stage: Stage) -> Milestone | None:
        """The latest passing gate out of ``stage``."""
        target = next_stage(stage)
        moves = [
            m
            for m in self.milestones
            if m.kind == "gate" and m.outcome == "pass" and m.subject is stage
            and m.after is target
        ]  # fmt: skip
        return moves[-1] if moves else None

    def last_entry(self, stage: Stage) -> Visit | None:
        found = [v for s, v in self.visits if s is stage]
        return found[-1] if found else None

    def healthy_since(self, stage: Stage, since: datetime) -> Milestone | None:
        return next(
            (
                m
                for m in self.milestones
                if m.kind == "recheck" and m.subject is stage and m.outcome in HEALTHY
                and m.time >= since
            ),
            None,
        )  # fmt: skip


def _stage_tracks(plan: Roadmap | None, book: _Ledger, at: datetime) -> tuple[StageTrack, ...]:
    planned_stages = {p.stage: p for p in plan.stages} if plan else {}
    by_stage: dict[Stage, list[Visit]] = {}
    for stage, visit in book.visits:
        by_stage.setdefault(stage, []).append(visit)
    tracks = []
    for stage in ROADMAP:
        planned = planned_stages.get(stage)
        visits = tuple(by_stage.get(stage, ()))
        if planned is None and not visits:
            continue
        state: StageState
        if stage is book.current:
            state = "current"
        elif book.current is Stage.STOPPED and stage is book.stopped_in:
            state = "stopped"
        elif visits:
            state = "rolled-back" if visits[-1].left_by == "rollback" else "done"
        else:
            state = "not-reached" if book.current is Stage.STOPPED else "upcoming"
        start_slip = slip = None
        if planned is not None and visits:
            start_slip = _days(visits[0].start, planned.start)
            leave_on = planned.leave_on
            if state == "current":
                again = _days(visits[-1].start, planned.start)
                slip = again if leave_on is None else max(again, (_day(at) - leave_on).days)
            elif state in ("done", "rolled-back") and leave_on is not None:
                end = visits[-1].end
                slip = _days(end, leave_on) if end else None
        tracks.append(StageTrack(stage, planned, visits, state, start_slip, slip))
    return tuple(tracks)


def _replan_days(plan: Roadmap, book: _Ledger) -> tuple[Stage, int, datetime] | None:
    """After the latest rollback: the stage it returned to and how many days it starts late."""
    rollbacks = [m for m in book.milestones if m.kind == "decision" and m.outcome == "rollback"]
    if not rollbacks or book.current is Stage.STOPPED:
        return None
    latest = rollbacks[-1]
    planned = plan.stage(latest.after)
    if planned is None:
        return None
    return latest.after, max(0, _days(latest.time, planned.start)), latest.time


def _open(d: PlannedDecision, due: date, at: date, note: str | None) -> DecisionTrack:
    if at > due:
        return DecisionTrack(d, due, "overdue", days_overdue=(at - due).days, note=note)
    state: DecisionState = "upcoming" if (due - at).days <= UPCOMING_DAYS else "open"
    return DecisionTrack(d, due, state, note=note)


def _judge(
    d: PlannedDecision, book: _Ledger, replan: tuple[Stage, int, datetime] | None
) -> DecisionTrack:
    stage = d.stage
    stopped = book.current is Stage.STOPPED
    stop_note = f"stopped on {_day(book.stopped_at).isoformat()}" if book.stopped_at else None
    if book.past(stage):
        exit_gate = book.last_exit(stage)
        visit = book.last_entry(stage)
        healthy = book.healthy_since(stage, visit.start) if d.kind == "review" and visit else None
        evidence = healthy or exit_gate
        return DecisionTrack(
            d,
            d.due,
            "taken",
            evidence.time if evidence else None,
            evidence.sequence if evidence else None,
        )
    if d.kind == "review" and book.reached is stage:
        visit = book.last_entry(stage)
        healthy = book.healthy_since(stage, visit.start) if visit else None
        if healthy is not None:
            return DecisionTrack(d, d.due, "taken", healthy.time, healthy.sequence)
    if stopped:
        if book.stopped_in is stage:
            return DecisionTrack(d, d.due, "no-go", book.stopped_at, note=stop_note)
        return DecisionTrack(d, d.due, "cancelled", note=stop_note)
    due, note = d.due, None
    if replan is not None and _rank(stage) >= _rank(replan[0]) and replan[1] > 0:
        returned, late, when = replan
        due = d.due + timedelta(days=late)
        note = (
            f"re-planned after the rollback to {returned.label} on {_day(when).isoformat()} "
            f"(planned {d.due.isoformat()})"
        )
    return _open(d, due, book.at, note)


def _review_held(book: _Ledger, due: date, after: int = -1) -> Milestone | None:
    """The first entry that reviews Scale from the quarter ending ``due`` on (late counts).

    Entries up to ``after`` (a sequence) already answered an earlier review.
    """
    since = due - timedelta(weeks=QUARTER_WEEKS)
    return next(
        (
            m
            for m in book.milestones
            if m.sequence > after
            and _day(m.time) > since
            and (
                (m.kind == "gate" and m.subject is Stage.PRODUCTION)
                or m.kind == "decision"
                or (m.kind == "recheck" and m.subject is Stage.SCALE)
            )
        ),
        None,
    )


def _scale_reviews(plan: Roadmap, book: _Ledger) -> list[DecisionTrack]:
    if book.current not in (Stage.PRODUCTION, Stage.SCALE):
        return []
    production = book.last_entry(Stage.PRODUCTION)
    if production is None:
        return []
    anchor = _day(production.start)

    def review(k: int) -> PlannedDecision:
        due = anchor + timedelta(weeks=QUARTER_WEEKS * k, days=-1)
        week = (due - plan.start).days // 7 + 1
        return PlannedDecision(week, SCALE_REVIEW, Stage.PRODUCTION, "scale-review", due)

    k = 1
    while review(k).due < book.at:
        k += 1
    tracks: list[DecisionTrack] = []
    note = f"every {QUARTER_WEEKS} weeks from the entry into Production on {anchor.isoformat()}"
    used = -1
    if k > 1:
        last = review(k - 1)
        held = _review_held(book, last.due)
        if held is not None:
            late = f"held {(_day(held.time) - last.due).days} d late" if _day(held.time) > last.due else None  # fmt: skip
            tracks.append(
                DecisionTrack(last, last.due, "taken", held.time, held.sequence, note=late)
            )
            used = held.sequence
        else:
            tracks.append(_open(last, last.due, book.at, note))
    coming = review(k)
    held = _review_held(book, coming.due, used)
    if held is not None:
        tracks.append(DecisionTrack(coming, coming.due, "taken", held.time, held.sequence))
        coming = review(k + 1)
    tracks.append(_open(coming, coming.due, book.at, note))
    return tracks


def track_roadmap(
    usecase_id: str,
    spec: UseCaseSpec | None,
    milestones: Sequence[Milestone],
    at: datetime,
    *,
    source: str | None = None,
) -> RoadmapTrack:
    """Compare the use case's plan with its ledger as of ``at``.

    ``source`` names the spec file in errors; an inconsistent ``roadmap`` override is
    a ConfigError.
    """
    kept = tuple(m for m in milestones if m.time <= at)  # the ledger as it stood at ``at``
    registered = next((m.time for m in kept if m.kind == "registration"), None)
    plan = plan_for(usecase_id, spec, registered, source)
    visits = _visits(kept)
    current = kept[-1].after if kept else None
    stop = next((m for m in reversed(kept) if m.after is Stage.STOPPED and m.moves), None)
    book = _Ledger(
        milestones=kept,
        current=current,
        stopped_in=stop.before if stop and current is Stage.STOPPED else None,
        stopped_at=stop.time if stop and current is Stage.STOPPED else None,
        visits=tuple(visits),
        at=_day(at),
    )
    if plan is None:
        return RoadmapTrack(
            usecase_id,
            at,
            None,
            current,
            (),
            (),
            book.stopped_at,
            "no start date in the spec and not registered: nothing to plan from",
        )
    replan = _replan_days(plan, book)
    decisions = [_judge(d, book, replan) for d in plan.decisions if d.kind != "scale-review"]
    decisions += _scale_reviews(plan, book)
    decisions.sort(key=lambda d: (d.due, d.planned.week))
    return RoadmapTrack(
        usecase=usecase_id,
        at=at,
        plan=plan,
        stage=current,
        stages=_stage_tracks(plan, book, at),
        decisions=tuple(decisions),
        stopped_at=book.stopped_at,
        note=plan.start_note,
    )
