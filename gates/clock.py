"""Whose time an entry carries: the signer's own clock, or a declared simulation.

A ledger's timings are evidence (days in a stage, the hard deadline of a PoC), so the
writer may not choose them. ``Clock.stamp`` is the one place a requested time is
accepted or refused: on the system clock a requested time must agree with the clock
within the tolerance (a flow that planned a moment ago), on a simulated clock (demos,
tests) any time is taken and every entry says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from gates.errors import StagegateError

ClockKind = Literal["system", "simulated"]


class ClockError(StagegateError):
    """A writer asked to record a time its clock does not allow."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """The writer's clock and how far a requested time may stray from it."""

    simulated: bool = False
    tolerance: timedelta = timedelta(minutes=5)
    source: Callable[[], datetime] = field(default=utcnow, compare=False, repr=False)

    @property
    def kind(self) -> ClockKind:
        return "simulated" if self.simulated else "system"

    def now(self) -> datetime:
        return self.source().astimezone(UTC)

    def stamp(self, requested: datetime | None = None, *, what: str = "an entry") -> datetime:
        """The time to record or evaluate at: ``requested`` only where this clock allows it."""
        actual = self.now()
        if requested is None:
            return actual
        requested = requested.astimezone(UTC)
        if self.simulated:
            return requested
        if abs(requested - actual) > self.tolerance:
            raise ClockError(
                f"refusing to record {what} at {iso(requested)}: this workspace runs on the "
                f"system clock ({iso(actual)} now; tolerance {_seconds(self.tolerance)})",
                hint="times are evidence and not the writer's choice; only a workspace that "
                "declares `[clock] simulated = true` (demos, tests) may record another time",
            )
        return actual


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second: how times are shown to people."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(value: str, *, field_name: str = "time") -> datetime:
    """The one parser for times people type: ISO 8601; a time without a zone means UTC."""
    from gates.errors import ConfigError

    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(
            field_name, [f"{value!r} is not an ISO 8601 time (e.g. 2026-11-25T09:00:00Z)"]
        ) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def span(delta: timedelta) -> str:
    """A duration as people read it: seconds, minutes, hours or days."""
    seconds = abs(delta.total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():g} s"
