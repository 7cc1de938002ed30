"""Calendar quarters in UTC (``2026Q4``): the Scale review's unit of time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gates.errors import ConfigError

_LABEL = re.compile(r"^(\d{4})[Qq]([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str, *, source: str = "--quarter") -> Quarter:
        """``2026Q4`` (case-insensitive ``q``); ConfigError naming ``source`` otherwise."""
        match = _LABEL.fullmatch(text.strip())
        if match is None:
            raise ConfigError(source, [f"{text!r} is not a quarter; expected YYYYQn, e.g. 2026Q4"])
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, when: datetime) -> Quarter:
        """The quarter containing ``when`` (converted to UTC)."""
        utc = when.astimezone(UTC)
        return cls(utc.year, (utc.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the quarter (exclusive end)."""
        return self.next().start

    @property
    def last_day(self) -> date:
        """The quarter's last calendar day."""
        return (self.end - timedelta(days=1)).date()

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def __str__(self) -> str:
        return self.label


def review_quarter(as_of: datetime) -> Quarter:
    """The quarter a Scale review looks at unless told otherwise: the last complete one.

    ``scale review``, the report's and the UI's Scale page and the Production → Scale
    gate all take it from here, so they never show different quarters by default.
    """
    return Quarter.of(as_of).previous()


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last``, both included (empty if ``first`` is later)."""
    out: list[Quarter] = []
    q = first
    while q <= last:
        out.append(q)
        q = q.next()
    return out
