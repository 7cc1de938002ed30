"""What a promotion did, whichever route it took (``flows.promotion``, ``flows.submit``)."""

from __future__ import annotations

from dataclasses import dataclass

from gates.ledger.entry import Entry


@dataclass(frozen=True)
class PromotionReport:
    """The gate entry a promotion wrote or finished, and what else it did."""

    entry: Entry
    #: The passing gate was already recorded: only its follow-ups ran.
    resumed: bool = False
    #: The model alias moved (``models:/NAME@ALIAS -> VERSION``), if any.
    alias: str | None = None
    #: The Prefect flow run that evaluated the gate, if one did.
    flow_run: str | None = None
    #: Where to see that run in the Prefect UI, when there is one to link to.
    flow_run_url: str | None = None
