"""Whether an outcome deserves an alert: tell people about new problems, not every night.

An outcome is compared with the last comparable one by its *signature*: the verdict
plus the sorted (check, status) pairs of the checks that failed, errored or warned. A
failure that is unchanged from one whose alert was delivered stays quiet; a changed
one, or one whose earlier alert never arrived, is sent again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from gates.alerts.event import ALERTING_STATUSES, AlertEvent, PreviousOutcome
from gates.canonical import digest_of


def alert_signature(verdict: str, checks: Iterable[tuple[str, str]]) -> str:
    """``sha256:<hex>`` of the verdict and the sorted (check, status) pairs that alert.

    Passing and skipped checks are left out, so both sides of a comparison count the
    same things however their caller filtered them.
    """
    pairs = sorted((check, status) for check, status in checks if status in ALERTING_STATUSES)
    return digest_of({"verdict": verdict, "checks": [list(p) for p in pairs]})


@dataclass(frozen=True)
class AlertDecision:
    """``alert`` says whether to send; when not, ``quiet`` is the status to record:
    ``unchanged`` when a delivered alert already covers it, ``none`` when nothing is wrong.
    """

    alert: bool
    quiet: Literal["none", "unchanged"]
    reason: str


def decide(event: AlertEvent, previous: PreviousOutcome | None) -> AlertDecision:
    """The rules, in one place; ``should_alert`` and ``send_alert`` both follow them."""
    what = "re-check" if event.kind == "recheck" else f"gate to {event.target}"
    if event.verdict in ("ok", "pass"):
        return AlertDecision(False, "none", f"{what} verdict is {event.verdict}: nothing to alert")

    current = alert_signature(event.verdict, ((c.check, c.status) for c in event.checks))
    earlier = "previous re-check" if event.kind == "recheck" else f"previous gate to {event.target}"
    if previous is not None and previous.sequence is not None:
        earlier += f" (entry {previous.sequence})"
    if previous is None:
        return AlertDecision(True, "none", f"{what} is {event.verdict}; no {earlier} to compare")
    same = alert_signature(previous.verdict, previous.checks) == current
    if not same:
        if event.verdict == "warn":
            return AlertDecision(
                True, "none", f"newly warning: {earlier} was {previous.verdict} with other checks"
            )
        return AlertDecision(
            True, "none", f"{what} is {event.verdict} and differs from the {earlier}"
        )
    if not previous.delivered:
        status = previous.alert or "not recorded"
        return AlertDecision(
            True,
            "none",
            f"{what} is {event.verdict} as before, but the alert for the {earlier} "
            f"was not delivered ({status})",
        )
    return AlertDecision(
        False,
        "unchanged",
        f"{what} is {event.verdict} with the same checks as the {earlier}, whose alert was delivered",
    )


def should_alert(event: AlertEvent, previous: PreviousOutcome | None) -> tuple[bool, str]:
    """(whether to send an alert, why in words).

    Re-checks: ``ok`` never alerts; ``fail``/``error`` alert unless the previous
    re-check of the stage had the same signature and its alert was delivered; ``warn``
    alerts only when newly warning by the same test. Promotions: ``pass`` never alerts;
    ``blocked``/``error`` alert unless the previous gate to the same target had the same
    signature and was delivered.
    """
    decision = decide(event, previous)
    return decision.alert, decision.reason
