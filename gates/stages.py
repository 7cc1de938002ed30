"""The roadmap's stages, their order and the only legal moves between them."""

from __future__ import annotations

from enum import StrEnum


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


def next_stage(stage: Stage) -> Stage | None:
    """The one stage a gate from ``stage`` may lead to (no skipping)."""
    if stage not in ROADMAP:
        return None
    index = ROADMAP.index(stage)
    return ROADMAP[index + 1] if index + 1 < len(ROADMAP) else None


def parse_stage(value: str) -> Stage:
    """Parse a stage name case-insensitively ("PoC", "poc"); raise ValueError otherwise."""
    try:
        return Stage(value.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Stage)
        raise ValueError(f"unknown stage {value!r}; expected one of: {names}") from None
