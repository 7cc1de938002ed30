"""How ``verify_ledger`` spreads chains over workers, as a setting: no workers start here.

``gates.ledger.parallel_verify`` does the spreading (processes, Dask); this small module
is what callers need to choose it, so that choosing costs no imports of multiprocessing
or of the worker side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Entries per chunk sent to a worker, at most (a chunk is whole chains, so a longer
#: chain makes a longer chunk): large enough that sending it costs little, small enough
#: that the workers finish together.
CHUNK_ENTRIES = 1_000
#: Below this many entries the ledger is verified in this process: starting workers
#: would cost more than they save.
MIN_ENTRIES = 1_000
#: What needs the ``dask`` extra, in the message when it is missing.
DASK_NEED = "audit verify on a Dask cluster"


@dataclass(frozen=True)
class Parallelism:
    """How ``verify_ledger`` spreads chains: over ``workers`` processes on this machine, or
    over the Dask cluster whose scheduler is at ``dask_address`` (``tcp://host:8786``).

    ``workers=1`` and no Dask address is the serial path. ``min_entries``: a smaller
    ledger is verified in this process whatever ``workers`` says (not with Dask, which
    was asked for by name).
    """

    workers: int = 1
    dask_address: str | None = None
    chunk_entries: int = CHUNK_ENTRIES
    min_entries: int = MIN_ENTRIES

    @classmethod
    def all_cores(cls) -> Parallelism:
        """One worker per core this process may run on."""
        if hasattr(os, "sched_getaffinity"):
            return cls(workers=len(os.sched_getaffinity(0)) or 1)
        return cls(workers=os.cpu_count() or 1)

    def in_this_process(self, entries: int) -> bool:
        """Whether a ledger of ``entries`` is verified here, serially: one worker, or
        fewer entries than are worth starting workers for (Dask, asked for by name, is
        used whatever the size)."""
        return self.dask_address is None and (self.workers <= 1 or entries < self.min_entries)

    def starts_before_reading(self, store_uri: str) -> bool:
        """Whether workers start before the store is read: local processes over S3,
        whose bulk reads start native threads that a forked worker would not survive."""
        return self.dask_address is None and self.workers > 1 and store_uri.startswith("s3://")
