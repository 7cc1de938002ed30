"""The last comparable outcome, read from a use case's verified ledger history.

A re-check is compared with the previous re-check of the same stage *during the same
stay in it*: after the stage changes (a promotion, a rollback and a return), the first
failure is news again. A promotion is compared with the previous gate to the same target.

Gate entries carry no alert record, so whether the alert for a gate arrived is not in
the ledger. A blocked or errored gate is taken as delivered: a second attempt that
fails the same way stays quiet, and one that fails differently alerts. The price is
that if the first alert was lost, an identical retry does not make up for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gates.alerts.event import ALERTING_STATUSES, DELIVERED_STATUSES, PreviousOutcome

if TYPE_CHECKING:
    from gates.ledger.entry import Entry
    from gates.ledger.statement import CheckRecord


def _pairs(checks: Iterable[CheckRecord]) -> tuple[tuple[str, str], ...]:
    return tuple((c.check, c.status) for c in checks if c.status in ALERTING_STATUSES)


def previous_recheck(history: Iterable[Entry], stage: str) -> PreviousOutcome | None:
    """The last re-check of ``stage`` since the use case last entered it, or None."""
    last: PreviousOutcome | None = None
    for entry in history:
        p = entry.predicate
        if p.kind == "registration" or p.stage.before != p.stage.after:
            last = None
        if p.kind != "recheck" or p.recheck is None or p.recheck.stage != stage:
            continue
        alert = p.recheck.alert.status if p.recheck.alert is not None else None
        last = PreviousOutcome(
            verdict=p.recheck.verdict,
            checks=_pairs(p.recheck.checks),
            delivered=alert in DELIVERED_STATUSES,
            alert=alert,
            sequence=p.sequence,
        )
    return last


def previous_gate(history: Iterable[Entry], target: str) -> PreviousOutcome | None:
    """The last gate to ``target``, or None. Blocked or errored gates count as delivered."""
    last: PreviousOutcome | None = None
    for entry in history:
        p = entry.predicate
        if p.kind != "gate" or p.gate is None or p.gate.to_stage != target:
            continue
        last = PreviousOutcome(
            verdict=p.gate.verdict,
            checks=_pairs(p.gate.checks),
            delivered=p.gate.verdict in ("blocked", "error"),
            sequence=p.sequence,
        )
    return last
