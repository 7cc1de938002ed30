"""Webhook alerts on failed or newly warning re-checks and on blocked promotions.

``event`` holds the data, ``decision`` says whether an outcome is news, ``history``
finds the outcome to compare with in the ledger, ``slack`` shapes the message and
``webhook`` delivers it. Sending never raises for delivery problems: its outcome is
recorded in the ledger entry the caller writes next.
"""

from gates.alerts.decision import AlertDecision, alert_signature, decide, should_alert
from gates.alerts.event import (
    AlertEvent,
    AlertOutcome,
    AlertStatus,
    FailingCheck,
    PreviousOutcome,
    failing_checks,
)
from gates.alerts.history import previous_gate, previous_recheck
from gates.alerts.slack import entry_link, slack_payload
from gates.alerts.webhook import WEBHOOK_ENV, send_alert, webhook_url

__all__ = [
    "WEBHOOK_ENV",
    "AlertDecision",
    "AlertEvent",
    "AlertOutcome",
    "AlertStatus",
    "FailingCheck",
    "PreviousOutcome",
    "alert_signature",
    "decide",
    "entry_link",
    "failing_checks",
    "previous_gate",
    "previous_recheck",
    "send_alert",
    "should_alert",
    "slack_payload",
    "webhook_url",
]
