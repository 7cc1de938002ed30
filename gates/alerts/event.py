"""What an alert is about, and what became of it: plain frozen data shared by every step.

The re-check and promotion paths build an ``AlertEvent`` before they write their ledger
entry; the outcome of sending it (``AlertOutcome``) goes into that entry, so the next
run can tell an unchanged failure that was already delivered from a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

AlertKind = Literal["recheck", "promotion"]
#: The same literals as ``AlertRecord.status`` in the signed ledger entry.
AlertStatus = Literal["sent", "unchanged", "failed", "disabled", "none"]

RECHECK_VERDICTS = frozenset({"ok", "warn", "fail", "error"})
PROMOTION_VERDICTS = frozenset({"pass", "blocked", "error"})
#: Check statuses that an alert reports; ``pass`` and ``skipped`` are not news.
ALERTING_STATUSES = frozenset({"error", "fail", "warn"})
#: Alert statuses meaning the people on the other end already know.
DELIVERED_STATUSES = frozenset({"sent", "unchanged"})


@dataclass(frozen=True)
class FailingCheck:
    """One check that failed, errored or warned, as the alert shows it."""

    check: str
    status: str
    reason: str
    observed: object = None
    expected: object = None


@dataclass(frozen=True)
class AlertEvent:
    """A re-check or promotion result worth telling people about, before it is signed.

    ``entry_key`` and ``sequence`` name the ledger entry the caller is about to write.
    """

    kind: AlertKind
    usecase: str
    title: str
    stage: str
    verdict: str
    target: str | None
    checks: tuple[FailingCheck, ...]
    entry_key: str
    sequence: int
    time: datetime

    def __post_init__(self) -> None:
        if self.kind not in ("recheck", "promotion"):
            raise ValueError(f"alert kind {self.kind!r}; expected 'recheck' or 'promotion'")
        allowed = RECHECK_VERDICTS if self.kind == "recheck" else PROMOTION_VERDICTS
        if self.verdict not in allowed:
            raise ValueError(
                f"{self.kind} verdict {self.verdict!r}; expected one of {', '.join(sorted(allowed))}"
            )


@dataclass(frozen=True)
class PreviousOutcome:
    """The last comparable outcome: the previous re-check of the same stage, or the
    previous gate to the same target.

    ``checks`` holds its (check, status) pairs; ``delivered`` says whether the people
    on the other end were told about it (its alert was sent, or was unchanged from one
    that was). ``alert`` is the recorded alert status where the entry carries one.
    """

    verdict: str
    checks: tuple[tuple[str, str], ...]
    delivered: bool
    alert: AlertStatus | None = None
    sequence: int | None = None


@dataclass(frozen=True)
class AlertOutcome:
    """What became of an alert; written into the ledger entry as its ``alert`` record."""

    status: AlertStatus
    detail: str

    def to_record(self) -> dict[str, str]:
        """The ``alert`` record of a re-check entry (``AlertRecord`` on the wire)."""
        return {"status": self.status, "detail": self.detail}


class _CheckLike(Protocol):
    @property
    def check(self) -> str: ...
    @property
    def status(self) -> Any: ...
    @property
    def reason(self) -> str: ...
    @property
    def observed(self) -> Any: ...
    @property
    def expected(self) -> Any: ...


def failing_checks(results: Iterable[_CheckLike]) -> tuple[FailingCheck, ...]:
    """The checks an alert reports, from ``CheckResult``s or signed ``CheckRecord``s."""
    out: list[FailingCheck] = []
    for r in results:
        status = str(r.status)
        if status in ALERTING_STATUSES:
            out.append(FailingCheck(r.check, status, r.reason, r.observed, r.expected))
    return tuple(out)
