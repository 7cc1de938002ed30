"""Verify a ledger's chains on every core, or over a Dask cluster, with the serial report.

Chains are the unit of work, sent in chunks of whole chains to workers that read them
from the store themselves, so the signature, hash and parse work spreads and so does the
reading. The coordinator (``verify_ledger``) keeps what spans chains: the listing, the
checkpoints and the head claims they make, and the report's order. Each worker re-opens
the store from its URI and the trusted keys from their raw bytes (neither pickles),
replays its chains with the very function the serial path uses (``verify.replay_chains``,
handed in by ``verify_ledger``, so this module sits below it, and sent to workers by
name) and sends back each chain's size, stage, head and violations, with what it counted
for the time notes. Results are taken in the order the chunks were sent, with a bounded number in
flight: the report is the serial one, and memory stays flat however long the ledger.
``replay_listed`` sends chains as the listing reaches them (``gates.ledger.listing``), so
workers start while the rest is listed; the coordinator puts them back in name order.

Processes, not threads: Ed25519 verification, JSON and pydantic parsing hold the GIL, so
two threads verify no faster than one (``python -m bench verify`` prints both floors).
"""

from __future__ import annotations

import itertools
import logging
import math
import multiprocessing
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives import serialization

from gates.clock import Clock
from gates.errors import StagegateError
from gates.ledger.chain import Ledger, LedgerIndex
from gates.ledger.checkpoint import CheckpointHistory, HeadClaim
from gates.ledger.entry import Violation
from gates.ledger.listing import ListedChain, index_of
from gates.ledger.packs import PackIndex
from gates.ledger.parallelism import DASK_NEED, Parallelism
from gates.ledger.replay import ChainState
from gates.ledger.time_evidence import TimeEvidence
from gates.signing.keys import PublicKeyFormat, public_key_from_raw
from gates.signing.trust import TrustedSigner, TrustStore
from gates.stages import Stage
from gates.store.factory import open_store
from gates.store.interface import ObjectStore
from gates.store.local import LocalStore

if TYPE_CHECKING:  # X.509 loads only where a TSA is configured
    from gates.tsa.chain import TsaChain

__all__ = [
    "Parallelism",
    "WorkerError",
    "Workers",
    "replay_in_parallel",
    "replay_listed",
    "workers_started",
]

log = logging.getLogger(__name__)

#: Chunks in flight per worker: enough that none waits for the next, few enough that
#: results waiting for their turn stay small.
IN_FLIGHT_PER_WORKER = 2
#: Looks at the thread count (2 ms apart) before concluding other threads run.
THREAD_SETTLE_TRIES = 10
#: The first chunk of a ledger still being listed holds this fraction of a full one.
FIRST_CHUNK_FRACTION = 4
#: How long to wait for a Dask scheduler to answer before giving up.
DASK_CONNECT_SECONDS = 5


class WorkerError(StagegateError):
    """The workers could not be reached or failed in a way that is neither the ledger's
    nor the store's (one died, say): nothing is concluded about the ledger."""


#: How chains are replayed (``verify.replay_chains``): chains of the index, with the head
#: claims of the history and the time rules of the evidence, folded in index order.
ReplayChains = Callable[
    [Ledger, LedgerIndex, CheckpointHistory, TimeEvidence],
    Iterator[tuple[ChainState, list[Violation]]],
]


@dataclass(frozen=True)
class Workers:
    """Worker processes already running, for ``replay_in_parallel``."""

    submit: Submit
    count: int


@contextmanager
def workers_started(parallel: Parallelism, ledger: Ledger) -> Iterator[Workers | None]:
    """This machine's worker processes, started before the coordinator reads anything
    (``Parallelism.starts_before_reading``): forked while this process still runs a
    single thread (reading S3 in bulk starts native threads, after which workers must
    start as fresh interpreters, far slower). None for a store workers cannot re-open."""
    if _reopenable(ledger.store) is None:
        yield None
        return
    warm = getattr(ledger.store, "warm_for_fork", None)
    if warm is not None:
        warm()  # the coordinator needs it too, and each forked worker inherits it
    with _processes(parallel.workers) as (submit, count):
        yield Workers(submit, count)


def replay_in_parallel(
    replay: ReplayChains,
    ledger: Ledger,
    index: LedgerIndex,
    history: CheckpointHistory,
    times: TimeEvidence,
    parallel: Parallelism,
    started: Workers | None = None,
) -> Iterator[tuple[ChainState, list[Violation]]]:
    """``replay`` spread over workers: the same chains, in the same order, each with the
    same violations; the workers' time counts are added to ``times``. ``replay`` must be
    a module-level function: workers get it by name.

    The yielded states carry what the report needs (size, stage, head), not the whole
    fold. A store that cannot be re-opened from its URI elsewhere (one in memory, say)
    and a ledger below ``parallel.min_entries`` are verified here, serially.
    """
    job = _Job.of(replay, ledger, times)
    total = sum(len(keyed) for keyed in index.chains.values())
    if job is None or total == 0 or parallel.in_this_process(total):
        yield from replay(ledger, index, history, times)
        return
    yield from _spread(
        job,
        lambda workers: _chunks(
            _listed(index), history, index.packs.packs, _even_sizes(parallel, total, workers)
        ),
        times,
        parallel,
        started,
    )


def replay_listed(
    replay: ReplayChains,
    ledger: Ledger,
    listing: Iterable[ListedChain],
    packs: dict[str, list[tuple[int, int, str]]],
    history: CheckpointHistory,
    times: TimeEvidence,
    parallel: Parallelism,
    started: Workers | None = None,
) -> Iterator[tuple[ChainState, list[Violation]]]:
    """``replay_in_parallel`` of the chains of a listing (``gates.ledger.listing``) as it
    hands them on: the first chunks go out while the rest is listed. Chains come back in
    the listing's order. ``packs``: the store's packs per chain (``listed_packs``). The
    caller has judged the ledger large enough for workers; one in a store a worker could
    not re-open is verified here, serially, once listed.
    """
    job = _Job.of(replay, ledger, times)
    if job is None:
        yield from replay(ledger, index_of(list(listing), packs), history, times)
        return
    yield from _spread(
        job,
        lambda workers: _chunks(iter(listing), history, packs, _growing_sizes(parallel)),
        times,
        parallel,
        started,
    )


def _spread(
    job: _Job,
    chunks: Callable[[int], Iterator[_Chunk]],
    times: TimeEvidence,
    parallel: Parallelism,
    started: Workers | None,
) -> Iterator[tuple[ChainState, list[Violation]]]:
    """Each chain of ``chunks(workers)`` replayed by a worker, in the order sent."""
    address = parallel.dask_address
    where = (
        _dask(address)
        if address
        else nullcontext((started.submit, started.count))
        if started is not None
        else _processes(parallel.workers)
    )
    with where as (submit, workers):
        ran_on: set[str] = set()
        entries = 0
        for result in _in_order(submit, job, chunks(workers), workers * IN_FLIGHT_PER_WORKER):
            ran_on.add(result.worker)
            times.simulated_entries += result.simulated_entries
            times.compared_with_store += result.compared_with_store
            times.tokens_checked += result.tokens_checked
            for chain in result.chains:
                entries += chain.size
                yield chain.state(), chain.violations
        log.info("verified %d entries on %s", entries, ", ".join(sorted(ran_on)))


def _even_sizes(parallel: Parallelism, total: int, workers: int) -> Iterator[int]:
    """Chunks of one size for a ledger of known size: small ledgers still spread, at
    least a few chunks per worker."""
    return itertools.repeat(max(1, min(parallel.chunk_entries, math.ceil(total / (workers * 4)))))


def _growing_sizes(parallel: Parallelism) -> Iterator[int]:
    """Chunks for a ledger still being listed: the first small, so that workers start
    early, doubling up to ``parallel.chunk_entries``."""
    size = max(1, parallel.chunk_entries // FIRST_CHUNK_FRACTION)
    while size < parallel.chunk_entries:
        yield size
        size *= 2
    yield from itertools.repeat(parallel.chunk_entries)


# -- what travels to a worker and back -----------------------------------------------


@dataclass(frozen=True)
class _Key:
    name: str
    roles: frozenset[str]
    revoked: bool
    raw: bytes
    format: PublicKeyFormat


@dataclass(frozen=True)
class _Job:
    """What a worker needs to verify chains as this process would: pickles and hashes."""

    replay: ReplayChains
    store_uri: str
    keys: tuple[_Key, ...]
    simulated: bool
    tolerance: timedelta
    #: Whose clock the store's listing reported (``TimeEvidence.store_clock``).
    store_clock: str | None
    #: The TSA chain as PEM certificates, TSA certificate first, root last; its source.
    tsa: tuple[str, tuple[bytes, ...]] | None

    @classmethod
    def of(cls, replay: ReplayChains, ledger: Ledger, times: TimeEvidence) -> _Job | None:
        """None for a store a worker could not open from its URI."""
        uri = _reopenable(ledger.store)
        if uri is None:
            return None
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        keys = tuple(
            _Key(s.name, s.roles, s.revoked, s.public.key.public_bytes(*raw), s.format)
            for s in ledger.trust.by_keyid.values()
        )
        tsa = None
        if times.tsa is not None:
            chain = (times.tsa.leaf, *times.tsa.intermediates, times.tsa.root)
            pem = tuple(c.public_bytes(serialization.Encoding.PEM) for c in chain)
            tsa = (times.tsa.source, pem)
        clock = times.clock
        return cls(replay, uri, keys, clock.simulated, clock.tolerance, times.store_clock, tsa)

    def open(self) -> tuple[Ledger, TimeEvidence]:
        """The ledger (cached per worker thread) and fresh time counters."""
        opened: tuple[_Job, Ledger, TsaChain | None] | None = getattr(_opened, "job", None)
        if opened is None or opened[0] != self:
            opened = _opened.job = (self, *self._build())
        _, ledger, tsa = opened
        return ledger, TimeEvidence(ledger.clock, self.store_clock, tsa)

    def _build(self) -> tuple[Ledger, TsaChain | None]:
        signers = {}
        for key in self.keys:
            public = public_key_from_raw(key.raw, f"trusted key {key.name}")
            signers[public.keyid] = TrustedSigner(
                key.name, key.roles, key.revoked, public, key.format
            )
        tsa = None
        if self.tsa is not None:
            from cryptography import x509

            from gates.tsa.chain import TsaChain

            source, pem = self.tsa
            certificates = [x509.load_pem_x509_certificate(c) for c in pem]
            tsa = TsaChain(source, certificates[0], tuple(certificates[1:-1]), certificates[-1])
        clock = Clock(simulated=self.simulated, tolerance=self.tolerance)
        return Ledger(open_store(self.store_uri), TrustStore(signers), clock), tsa


#: Per worker thread: the last job's opened ledger (a store keeps connections open).
_opened = threading.local()


def _reopenable(store: ObjectStore) -> str | None:
    # Exactly the stores ``open_store`` makes from a URI; a subclass or a wrapper may
    # behave differently from what its URI re-opens.
    if type(store) is LocalStore:
        return store.uri
    if not store.uri.startswith("s3://"):
        return None  # the S3 module loads only for a store that is one (cold start)
    from gates.store.s3 import S3Store

    return store.uri if type(store) is S3Store else None


@dataclass(frozen=True)
class _Chunk:
    """Whole chains, with their tokens, listing times and checkpoint head claims."""

    chains: dict[str, list[tuple[int, str]]]
    tokens: dict[str, dict[int, list[str]]]
    received: dict[str, datetime]
    claims: dict[str, dict[int, HeadClaim]]
    packs: PackIndex


@dataclass(frozen=True)
class _Chain:
    usecase: str
    size: int
    stage: str | None
    head: str | None
    violations: list[Violation]

    def state(self) -> ChainState:
        stage = Stage(self.stage) if self.stage else None
        return ChainState(self.usecase, stage=stage, head_digest=self.head, next_sequence=self.size)


@dataclass(frozen=True)
class _Result:
    chains: list[_Chain]
    simulated_entries: int
    compared_with_store: int
    tokens_checked: int
    #: Which worker did it (host:pid), for the log.
    worker: str


def verify_chunk(job: _Job, chunk: _Chunk) -> _Result:
    """A worker's part: replay the chunk's chains from the store, as the serial path does."""
    ledger, times = job.open()
    index = LedgerIndex(
        chunk.chains, tokens=chunk.tokens, received=chunk.received, packs=chunk.packs
    )
    history = CheckpointHistory(claims=chunk.claims)
    chains = [
        _Chain(s.usecase, s.next_sequence, s.stage.value if s.stage else None, s.head_digest, v)
        for s, v in job.replay(ledger, index, history, times)
    ]
    return _Result(
        chains,
        times.simulated_entries,
        times.compared_with_store,
        times.tokens_checked,
        f"{socket.gethostname()}:{os.getpid()}",
    )


def _listed(index: LedgerIndex) -> Iterator[ListedChain]:
    """The index's chains as the listing hands them on."""
    checksums = index.packs.checksums
    for usecase, keyed in index.chains.items():
        tokens = index.tokens.get(usecase, {})
        keys = [k for seq, key in keyed for k in (key, *tokens.get(seq, ()))]
        yield ListedChain(
            usecase,
            keyed,
            tokens,
            {key: index.received[key] for _, key in keyed if key in index.received},
            {key: checksums[key] for key in keys if key in checksums},
        )


def _chunks(
    chains: Iterator[ListedChain],
    history: CheckpointHistory,
    packs: dict[str, list[tuple[int, int, str]]],
    sizes: Iterator[int],
) -> Iterator[_Chunk]:
    """Whole chains, gathered until a chunk holds the next of ``sizes`` entries."""
    gathered: list[ListedChain] = []
    entries = 0
    size = next(sizes)
    for chain in chains:
        if not chain.keyed:
            continue  # the coordinator reports a chain with no entries
        gathered.append(chain)
        entries += len(chain.keyed)
        if entries >= size:
            yield _chunk_of(gathered, history, packs)
            gathered, entries, size = [], 0, next(sizes)
    if gathered:
        yield _chunk_of(gathered, history, packs)


def _chunk_of(
    chains: list[ListedChain],
    history: CheckpointHistory,
    packs: dict[str, list[tuple[int, int, str]]],
) -> _Chunk:
    checksums = {key: listed for chain in chains for key, listed in chain.checksums.items()}
    return _Chunk(
        {chain.usecase: chain.keyed for chain in chains},
        tokens={chain.usecase: chain.tokens for chain in chains if chain.tokens},
        received={key: at for chain in chains for key, at in chain.received.items()},
        claims={
            c.usecase: history.claims[c.usecase] for c in chains if c.usecase in history.claims
        },
        # Only a listing with checksums reads through packs (as ``Ledger.index``).
        packs=PackIndex(
            checksums, {c.usecase: packs[c.usecase] for c in chains if c.usecase in packs}
        )
        if checksums
        else PackIndex(),
    )


# -- where the work runs -----------------------------------------------------------------


class _Pending(Protocol):
    def result(self) -> Any: ...


Submit = Callable[[_Job, _Chunk], _Pending]


def _in_order(
    submit: Submit, job: _Job, chunks: Iterator[_Chunk], window: int
) -> Iterator[_Result]:
    pending: deque[_Pending] = deque()
    for chunk in chunks:
        pending.append(submit(job, chunk))
        if len(pending) >= window:
            yield _result(pending.popleft())
    while pending:
        yield _result(pending.popleft())


def _result(pending: _Pending) -> _Result:
    try:
        result = pending.result()
    except StagegateError:
        raise  # the store's or the ledger's own error, raised in the worker as it would be here
    except Exception as e:
        raise WorkerError(
            f"a verification worker failed: {type(e).__name__}: {e}",
            hint="nothing was concluded about the ledger; run again, or with --workers 1",
        ) from e
    assert isinstance(result, _Result)
    return result


@contextmanager
def _processes(workers: int) -> Iterator[tuple[Submit, int]]:
    from concurrent.futures import ProcessPoolExecutor

    method = _start_method()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    try:
        if method == "fork":
            pool.submit(int).result()  # forks every worker now, while this process can
        yield (lambda job, chunk: pool.submit(verify_chunk, job, chunk)), workers
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_method() -> str:
    """Fork when this process runs one thread: workers start at once, with every module
    already imported. With other threads running, one could hold a lock at the moment of
    forking that the child then waits on for ever: spawn fresh interpreters instead. (Not
    a fork server: it would keep the environment of when it started, credentials
    included, for every later pool.)

    Threads are counted by the operating system where it says (``/proc/self/task``):
    native runtimes such as obstore's start threads Python does not list, and do not
    survive a fork."""
    if "fork" in multiprocessing.get_all_start_methods() and _single_threaded():
        return "fork"
    return "spawn"


def _single_threaded() -> bool:
    """Whether this process runs one thread. A thread Python has joined can still be
    leaving the kernel's list for a moment, so when Python knows of no other thread, the
    count is given a few milliseconds to settle; native threads that stay are real."""
    if threading.active_count() > 1:
        return False
    for _ in range(THREAD_SETTLE_TRIES):
        if _threads() == 1:
            return True
        time.sleep(0.002)
    return False


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


@contextmanager
def _dask(address: str) -> Iterator[tuple[Submit, int]]:
    from gates.extras import DASK, require

    require(DASK, DASK_NEED)
    from distributed import Client

    try:
        # distributed has no type hints: its client is an Any here.
        client: Any = Client(address, timeout=DASK_CONNECT_SECONDS, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as e:
        raise WorkerError(
            f"cannot reach the Dask scheduler at {address!r}: {e}",
            hint="give the address of a running scheduler, e.g. tcp://host:8786 "
            "(the same kind as [schedule] dask_address)",
        ) from None
    try:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise WorkerError(f"the Dask cluster at {address!r} has no workers")

        def submit(job: _Job, chunk: _Chunk) -> _Pending:
            future: _Pending = client.submit(verify_chunk, job, chunk, pure=False)
            return future

        yield submit, threads
    finally:
        client.close()
