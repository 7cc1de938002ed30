"""The roadmap's stages, their order and the only legal moves between them."""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise


class Stage(StrEnum):
    EXPLORE = "explore"
    POC = "poc"
    PILOT = "pilot"
    PRODUCTION = "production"
    SCALE = "scale"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Stage.EXPLORE: "Explore",
    Stage.POC: "PoC",
    Stage.PILOT: "Pilot",
    Stage.PRODUCTION: "Production",
    Stage.SCALE: "Scale",
    Stage.STOPPED: "Stopped",
}

ROADMAP: tuple[Stage, ...] = (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION, Stage.SCALE)

#: Backward moves that an explicit, signed rollback decision may make.
ROLLBACKS: frozenset[tuple[Stage, Stage]] = frozenset(
    {
        (Stage.SCALE, Stage.PRODUCTION),
        (Stage.PRODUCTION, Stage.PILOT),
        (Stage.PILOT, Stage.POC),
    }
)


#: Each stage by its name: ``Stage(name)`` without the enum's call machinery, for names
#: a wire model has already checked (replay looks up several for every entry).
STAGE_BY_NAME: dict[str, Stage] = {stage.value: stage for stage in Stage}

_NEXT: dict[Stage, Stage] = dict(pairwise(ROADMAP))


def next_stage(stage: Stage) -> Stage | None:
    """The one stage a gate from ``stage`` may lead to (no skipping)."""
    return _NEXT.get(stage)


def parse_stage(value: str) -> Stage:
    """Parse a stage name case-insensitively ("PoC", "poc"); raise ValueError otherwise."""
    try:
        return Stage(value.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Stage)
        raise ValueError(f"unknown stage {value!r}; expected one of: {names}") from None
