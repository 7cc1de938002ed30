"""The playbook's roadmap template as data, and its calendar for one use case.

DESIGN §2: Explore weeks 1–2, PoC weeks 3–6, Pilot weeks 7–14, Production from week 15
(ongoing); decisions at week 2 (use case approved), 6 (go to Pilot?), 14 (go to
Production?), 16 (stable?) and a quarterly Scale review. A spec may move stages
(``roadmap.stages``) and replace the week-numbered decisions (``roadmap.checkpoints``).

Week *n* of a roadmap that starts on day S runs from S + 7(n−1) to S + 7n − 1, both
days included; a decision of week *n* is due on that week's last day, and a stage is on
time when it is left on the first day after its last week.

Plans are NamedTuples rather than dataclasses: ``status`` loads this module on every
start, and a NamedTuple costs a tenth as much to define.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Literal, NamedTuple

from gates.errors import ConfigError
from gates.stages import ROADMAP, Stage, next_stage
from gates.workspace.usecase import RoadmapOverride, UseCaseSpec

#: ``exit``: the move out of the stage (a passing gate into the next one). ``review``: a
#: confirmation that the stage holds (for Production: a re-check that found it healthy).
#: ``scale-review``: the recurring quarterly Scale review.
DecisionKind = Literal["exit", "review", "scale-review"]
StartSource = Literal["roadmap.start_date", "start_date", "registration"]

#: Weeks (first, last) of each stage; ``None`` as last week: ongoing.
TEMPLATE_STAGES: dict[Stage, tuple[int, int | None]] = {
    Stage.EXPLORE: (1, 2),
    Stage.POC: (3, 6),
    Stage.PILOT: (7, 14),
    Stage.PRODUCTION: (15, None),
}


class DecisionRule(NamedTuple):
    """A template decision, anchored to a stage so that it moves with that stage's weeks."""

    label: str
    stage: Stage
    kind: Literal["exit", "review"]
    #: For a review, the week of the stage it falls in (1 = the stage's first week).
    week_of_stage: int = 0


TEMPLATE_DECISIONS: tuple[DecisionRule, ...] = (
    DecisionRule("use case approved", Stage.EXPLORE, "exit"),  # week 2
    DecisionRule("go to Pilot?", Stage.POC, "exit"),  # week 6
    DecisionRule("go to Production?", Stage.PILOT, "exit"),  # week 14
    DecisionRule("stable?", Stage.PRODUCTION, "review", week_of_stage=2),  # week 16
)

#: The Scale review recurs every quarter (13 weeks). The first falls at the end of the
#: first quarter in Production: 13 weeks after Production starts (planned start in the
#: plan; the ledger's actual entry into Production once there is one).
QUARTER_WEEKS = 13
SCALE_REVIEW = "quarterly Scale review"


def week_start(start: date, week: int) -> date:
    return start + timedelta(days=7 * (week - 1))


def week_end(start: date, week: int) -> date:
    return start + timedelta(days=7 * week - 1)


class PlannedStage(NamedTuple):
    stage: Stage
    first_week: int
    last_week: int | None
    start: date
    #: Last planned day (included); None for an ongoing stage.
    end: date | None

    @property
    def leave_on(self) -> date | None:
        """The day the stage is planned to be left: the first day after its last week."""
        return self.end + timedelta(days=1) if self.end else None

    @property
    def length_days(self) -> int | None:
        return (self.end - self.start).days + 1 if self.end else None

    def to_json(self) -> dict[str, object]:
        return {
            "stage": self.stage.value,
            "firstWeek": self.first_week,
            "lastWeek": self.last_week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
        }


class PlannedDecision(NamedTuple):
    week: int
    label: str
    #: The stage the decision is about: the one to leave (exit) or to confirm (review).
    stage: Stage
    kind: DecisionKind
    due: date

    def to_json(self) -> dict[str, object]:
        return {
            "week": self.week,
            "label": self.label,
            "stage": self.stage.value,
            "kind": self.kind,
            "due": self.due.isoformat(),
        }


class Roadmap(NamedTuple):
    """One use case's dated plan."""

    usecase: str
    start: date
    start_source: StartSource
    stages: tuple[PlannedStage, ...]
    decisions: tuple[PlannedDecision, ...]
    #: Which parts the spec overrides, e.g. ``("stages.poc", "checkpoints")``.
    overrides: tuple[str, ...] = ()

    def stage(self, stage: Stage) -> PlannedStage | None:
        return next((p for p in self.stages if p.stage is stage), None)

    @property
    def start_note(self) -> str:
        if self.start_source == "registration":
            return (
                f"no start date in the spec: planned from the registration on "
                f"{self.start.isoformat()}"
            )
        return f"planned from {self.start_source} {self.start.isoformat()}"


def start_of(
    spec: UseCaseSpec | None, registered_at: datetime | None
) -> tuple[date, StartSource] | None:
    """Where the plan starts: ``roadmap.start_date``, else ``start_date``, else registration."""
    if spec is not None and spec.roadmap is not None and spec.roadmap.start_date is not None:
        return spec.roadmap.start_date, "roadmap.start_date"
    if spec is not None and spec.start_date is not None:
        return spec.start_date, "start_date"
    if registered_at is not None:
        return registered_at.date(), "registration"
    return None


def _weeks(override: RoadmapOverride | None, source: str) -> dict[Stage, tuple[int, int | None]]:
    weeks = dict(TEMPLATE_STAGES)
    if override is not None:
        for name, w in override.stages.items():
            weeks[Stage(name)] = (w.first, w.last)
    ordered = [s for s in ROADMAP if s in weeks]
    problems = []
    for before, after in pairwise(ordered):
        (_, last), (first, _) = weeks[before], weeks[after]
        if last is None:
            problems.append(
                f"roadmap.stages.{before.value}: ongoing (no last week), but {after.label} is "
                f"planned after it from week {first}; give {before.value} a last week"
            )
        elif first <= last:
            problems.append(
                f"roadmap.stages.{after.value}: starts in week {first}, before {before.label} "
                f"ends (week {last}); stages follow one another"
            )
    if problems:
        raise ConfigError(source, problems)
    return {s: weeks[s] for s in ordered}


def _decision_for_week(
    week: int, stages: tuple[PlannedStage, ...]
) -> tuple[Stage, Literal["exit", "review"]]:
    """What a week-numbered checkpoint decides: leaving the stage it ends, else a review.

    A week that is the last of a stage with a planned successor (or falls in a gap
    after it) decides the move out of that stage; any other week reviews its stage.
    """
    holder = stages[0]
    for planned in stages:
        if planned.first_week <= week:
            holder = planned
    successor = next_stage(holder.stage)
    planned_next = successor is not None and any(p.stage is successor for p in stages)
    if holder.last_week is not None and week >= holder.last_week and planned_next:
        return holder.stage, "exit"
    return holder.stage, "review"


def instantiate(
    usecase_id: str,
    start: date,
    start_source: StartSource,
    override: RoadmapOverride | None = None,
    source: str = "roadmap",
) -> Roadmap:
    """The template dated from ``start``, with the spec's overrides applied.

    ``source`` names the spec file in errors: overlapping or unordered stages and
    checkpoint weeks before week 1 are a ConfigError.
    """
    weeks = _weeks(override, source)
    stages = tuple(
        PlannedStage(
            stage,
            first,
            last,
            week_start(start, first),
            week_end(start, last) if last is not None else None,
        )
        for stage, (first, last) in weeks.items()
    )
    by_stage = {p.stage: p for p in stages}
    decisions: list[PlannedDecision] = []
    custom = override.checkpoints if override is not None else {}
    if custom:
        bad = sorted(w for w in custom if w < 1)
        empty = sorted(w for w, label in custom.items() if not label.strip())
        problems = [f"roadmap.checkpoints.{w}: weeks count from 1" for w in bad]
        problems += [f"roadmap.checkpoints.{w}: give the decision a name" for w in empty]
        if problems:
            raise ConfigError(source, problems)
        for week, label in sorted(custom.items()):
            stage, kind = _decision_for_week(week, stages)
            decisions.append(PlannedDecision(week, label, stage, kind, week_end(start, week)))
    else:
        for rule in TEMPLATE_DECISIONS:
            planned = by_stage.get(rule.stage)
            if planned is None:
                continue
            if rule.kind == "exit":
                if planned.last_week is None or next_stage(rule.stage) not in by_stage:
                    continue
                week = planned.last_week
            else:
                week = planned.first_week + rule.week_of_stage - 1
            decisions.append(
                PlannedDecision(week, rule.label, rule.stage, rule.kind, week_end(start, week))
            )
    production = by_stage.get(Stage.PRODUCTION)
    if production is not None:
        week = production.first_week + QUARTER_WEEKS - 1
        decisions.append(
            PlannedDecision(
                week, SCALE_REVIEW, Stage.PRODUCTION, "scale-review", week_end(start, week)
            )
        )
    overrides: list[str] = []
    if override is not None:
        overrides += [f"stages.{name}" for name in sorted(override.stages)]
        if custom:
            overrides.append("checkpoints")
    decisions.sort(key=lambda d: (d.due, d.week))
    return Roadmap(usecase_id, start, start_source, stages, tuple(decisions), tuple(overrides))


def plan_for(
    usecase_id: str,
    spec: UseCaseSpec | None,
    registered_at: datetime | None,
    source: str | None = None,
) -> Roadmap | None:
    """The dated plan of a use case; None when there is nothing to date it from."""
    begun = start_of(spec, registered_at)
    if begun is None:
        return None
    start, start_source = begun
    override = spec.roadmap if spec is not None else None
    return instantiate(usecase_id, start, start_source, override, source or usecase_id)
