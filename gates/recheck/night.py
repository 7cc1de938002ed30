"""A night of re-checks fanned out: batches of use cases, each run, then the night's summary.

The nightly Prefect flow (``flows.nightly``) plans the night (``plan_night``), runs
each batch as a task (``recheck_batch``), on threads or a Dask cluster, and publishes
``night_table`` and ``night_summary``; ``recheck_all`` is the same night in this process.
Every use case signs its own entry and one use case's failure never stops the others.
A night keeps of each use case only its summary line and table row (verdict, entry, the
checks that did not pass), folded in a ``NightTally`` as each batch ends: the signed
entries hold the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gates.recheck.run import RecheckOutcome, recheck_usecase
from gates.workspace.session import Session


def batches(ids: list[str], max_tasks: int) -> list[list[str]]:
    """Split ``ids`` into at most ``max_tasks`` contiguous batches of even size."""
    if not ids:
        return []
    count = min(len(ids), max_tasks)
    size, extra = divmod(len(ids), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(ids[start:end])
        start = end
    return out


def batch_label(batch: list[str]) -> str:
    """``first..last`` (or the one id) naming a batch."""
    return batch[0] if len(batch) == 1 else f"{batch[0]}..{batch[-1]}"


def recheck_batch(
    session: Session, usecases: list[str], now: datetime | None, *, notify: bool = True
) -> list[RecheckOutcome]:
    """Re-check a batch of use cases in turn (each signs its own entry, none stops the others).

    Each outcome is compact (``RecheckOutcome.compact``): once a use case's entry is
    written, only the checks that did not pass are kept, so a night's memory does not
    grow with the checks of thousands of healthy use cases.
    """
    return [recheck_usecase(session, uc, now, notify=notify).compact() for uc in usecases]


class RecheckedBatch:
    """A batch's outcomes as one object: what the nightly flow's batch task returns.

    Prefect links every object a task returns, and each item of a returned list, to the
    task's state by ``id`` for as long as the flow runs
    (``prefect.utilities.engine.link_state_to_result``): a list of outcomes cost the flow
    one link per use case, a night of ten thousand ten thousand links. A plain object (not
    a collection, dataclass or model, which Prefect looks into) is linked once per batch.
    """

    __slots__ = ("__weakref__", "outcomes")

    def __init__(self, outcomes: list[RecheckOutcome]) -> None:
        self.outcomes = outcomes

    def __repr__(self) -> str:
        return f"RecheckedBatch({len(self.outcomes)} use case(s))"


def batch_outcomes(batch: list[str], outcome: object) -> list[RecheckOutcome]:
    """A batch's outcomes from what its run returned, or an ``error`` for each use case."""
    if isinstance(outcome, RecheckedBatch) and all(
        isinstance(o, RecheckOutcome) for o in outcome.outcomes
    ):
        return outcome.outcomes
    message = str(outcome) if isinstance(outcome, BaseException) else f"task returned {outcome!r}"
    return [RecheckOutcome(uc, None, "error", message=f"task failed: {message}") for uc in batch]


def table_row(o: RecheckOutcome) -> dict[str, Any]:
    """A use case's row of the night's table: stage, verdict, problems, entry and alert."""
    return {
        "use case": o.usecase,
        "stage": o.stage or "—",
        "verdict": o.verdict,
        "problems": "; ".join(f"{r.check} {r.status.value}" for r in o.problems)
        or (o.message or "—"),
        "entry": o.entry or "—",
        "alert": o.alert,
    }


class NightSummary(dict[str, Any]):
    """The night's summary (counts, healthFailed, outcomes): a dict whose repr is one line.

    The summary is the nightly flow's result, and a result gets formatted: Prefect's
    ``State.__repr__`` includes its data's repr, and Python 3.11's ``asyncio.run`` formats
    its main task's repr (and so the flow's state) twice as it restores the SIGINT
    handler. The full repr of ten thousand outcomes was a string of megabytes built at
    the end of every night, the peak of its memory; the data itself is unchanged.
    """

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {v}" for v, n in sorted(self.get("counts", {}).items()))
        return f"NightSummary({len(self.get('outcomes', ()))} use case(s): {counts or 'none'})"


@dataclass
class NightTable:
    """The night's table as JSON text, each row encoded when its use case is counted.

    A row held as its JSON text is a third of the same row as a dict, and the table is
    published from that text as it is (``text``, the same as ``json.dumps`` of the rows)
    instead of being validated, copied and encoded again at the end of the night, when a
    night of ten thousand use cases would hold several copies of it at once.
    """

    encoded: list[str] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        self.encoded.append(json.dumps(row))

    def __len__(self) -> int:
        return len(self.encoded)

    def text(self) -> str:
        """The rows as one JSON array, as ``json.dumps(rows)`` writes it."""
        return "[" + ", ".join(self.encoded) + "]"

    def rows(self) -> list[dict[str, Any]]:
        """The rows decoded again (for a reader that wants them as data)."""
        return [json.loads(row) for row in self.encoded]


@dataclass
class NightTally:
    """What a night keeps of its outcomes, folded in as each batch ends.

    A use case's ``RecheckOutcome`` is let go once it is counted: the summary keeps its
    JSON line and the table its row (as JSON text), nothing else, so a night of
    thousands holds two small records per use case and never a batch's checks longer
    than the batch.
    """

    counts: dict[str, int] = field(default_factory=dict)
    health_failed: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    table: NightTable = field(default_factory=NightTable)

    def add(self, outcomes: Iterable[RecheckOutcome]) -> None:
        for o in outcomes:
            self.counts[o.verdict] = self.counts.get(o.verdict, 0) + 1
            if o.health_failed:
                self.health_failed.append(o.usecase)
            self.outcomes.append(o.to_json())
            self.table.add(table_row(o))

    def summary(self) -> NightSummary:
        """Counts per verdict, the production use cases whose health failed, every outcome."""
        return NightSummary(
            counts=self.counts,
            healthFailed=sorted(self.health_failed),
            outcomes=self.outcomes,
        )


def night_table(outcomes: list[RecheckOutcome]) -> list[dict[str, Any]]:
    """One row per use case: stage, verdict, problems, entry written and alert sent."""
    return [table_row(o) for o in outcomes]


def night_summary(outcomes: list[RecheckOutcome]) -> NightSummary:
    """Counts per verdict, the production use cases whose health failed, every outcome."""
    tally = NightTally()
    tally.add(outcomes)
    return tally.summary()
