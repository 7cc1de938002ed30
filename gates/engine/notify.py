"""Tell people about a blocked or failed promotion, once per distinct failure.

Sent after the gate entry is written, so the alert can point at it. Repeats of an
unchanged failure are suppressed by comparing with the previous gate to the same stage.
Delivery problems never undo or hide the recorded gate: they come back as the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gates.engine.gate import GateEvaluation
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.results import Verdict
from gates.workspace.session import Session

if TYPE_CHECKING:
    from gates.alerts import AlertOutcome


def notify_gate(
    session: Session, before: ChainState, evaluation: GateEvaluation, entry: Entry
) -> AlertOutcome | None:
    """Alert on a blocked or error gate; None for a pass."""
    if evaluation.verdict is Verdict.PASS:
        return None
    from gates.alerts import AlertEvent, failing_checks, previous_gate, send_alert

    plan = evaluation.plan
    event = AlertEvent(
        kind="promotion",
        usecase=plan.usecase_id,
        title=plan.context.usecase.title,
        stage=plan.stage.value,
        verdict=evaluation.verdict.value,
        target=plan.target.value,
        checks=failing_checks(evaluation.results),
        entry_key=entry.key,
        sequence=entry.sequence,
        time=plan.context.now,
    )
    previous = previous_gate(before.history, plan.target.value)
    return send_alert(session.workspace.settings.alerts, event, previous)
