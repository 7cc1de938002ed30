"""Axis ticks people can read: calendar dates, day counts, round values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def calendar_ticks(
    start: datetime, end: datetime, *, weekly_up_to_days: float = 42
) -> list[tuple[datetime, str]]:
    """Mondays for short ranges, then months, quarters, years: (moment, label) pairs."""
    days = (end - start).total_seconds() / 86400
    if days <= weekly_up_to_days:
        first = (start + timedelta(days=(7 - start.weekday()) % 7)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        ticks = []
        moment = first
        while moment <= end:
            ticks.append((moment, moment.strftime("%d %b")))
            moment += timedelta(days=7)
        return ticks
    months = 1 if days <= 400 else 3 if days <= 3 * 365 else 12
    year, month = start.year, start.month
    ticks = []
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if (month - 1) % months:
            continue
        moment = datetime(year, month, 1, tzinfo=UTC)
        if moment > end:
            return ticks
        ticks.append((moment, moment.strftime("%Y") if months == 12 else moment.strftime("%b %Y")))


def day_step(scale_max: float) -> float:
    """A step in days (1, 2, a week, a fortnight, four weeks, …) giving at most eight ticks."""
    for step in (1, 2, 7, 14, 28, 56, 91, 182, 365):
        if scale_max / step <= 8:
            return float(step)
    return float(round(scale_max / 8))


def round_step(top: float) -> float:
    """A round step (5, 10, 20, 25, 50, 100 …) giving four steps up to ``top`` or more."""
    scale = 1.0
    while True:
        for base in (5, 10, 20, 25, 50):
            if base * scale * 4 >= top:
                return base * scale
        scale *= 10


def even_ticks(top: float, steps: int = 4) -> list[float]:
    return [top * i / steps for i in range(steps + 1)]
