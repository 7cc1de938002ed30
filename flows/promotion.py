"""One door for callers that promote (the CLI, the demo): through the flow or in-process.

Prefect loads only when the flow path is taken, so ``--in-process`` runs and the
library never pay for it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from gates.engine.actions import promote
from gates.engine.session import Session
from gates.ledger.entry import Entry
from gates.stages import Stage


def promote_entry(
    session: Session,
    usecase_id: str,
    target: Stage,
    *,
    now: datetime | None = None,
    via_prefect: bool = True,
) -> Entry:
    """Promote through the Prefect gate flow (default) or in-process; return the signed entry."""
    if not via_prefect:
        return promote(session, usecase_id, target, now=now).entry
    from flows.gate_flow import gate_flow

    result = asyncio.run(
        gate_flow(
            usecase=usecase_id,
            to=target.value,
            workspace=str(session.workspace.root),
            now=now.isoformat() if now else None,
        )
    )
    return session.ledger.read_entry(usecase_id, int(result["sequence"]))
