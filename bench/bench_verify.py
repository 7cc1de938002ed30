"""``audit verify`` throughput over 10,000 entries, from the folder store and SeaweedFS,
serially and spread over two worker processes, against the floor: Ed25519 verify + JSON
parse of the same bytes in memory, on one core, on two threads and on two cores.

The two-thread floor shows why verification spreads over processes: the work holds the
GIL. Two more folder rows, not held to a target, verify with the ledger's files evicted
from the page cache first, as a ledger read from the disk. Targets, against the two-core floor: folder store ≥ 0.7×, SeaweedFS S3 ≥ 0.5×.
Each figure is the best of ``repeats`` runs (the machine is shared).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

CORES = 2  # the "two-core" floor and the workers verification is spread over


@dataclass(frozen=True)
class Size:
    usecases: int
    per_chain: int  # entries in each use case's chain
    repeats: int  # each figure is the best of this many runs


FULL = Size(usecases=100, per_chain=100, repeats=3)
SMOKE = Size(usecases=3, per_chain=25, repeats=1)

#: The in-memory floor's input, set before the pool forks so workers inherit it unsent.
_BLOBS: list[bytes] = []
_KEYS: dict[str, Any] = {}


def _floor_slice(start: int, stop: int) -> int:
    """Ed25519-verify and JSON-parse ``_BLOBS[start:stop]``: the floor's unit of work."""
    from gates.signing.dsse import pae, parse_envelope

    for raw in _BLOBS[start:stop]:
        envelope = parse_envelope(raw, "bench")
        sig = envelope.signatures[0]
        assert _KEYS[sig.keyid].verify(sig.sig, pae(envelope.payload_type, envelope.payload))
        json.loads(envelope.payload)
    return stop - start


def _halves(total: int, parts: int) -> list[tuple[int, int]]:
    step = -(-total // parts)
    return [(lo, min(lo + step, total)) for lo in range(0, total, step)]


def floor_rates(session, keys: list[str], repeats: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Entries/s of the floor on one core, on CORES threads, on CORES processes."""
    _BLOBS[:] = [session.store.get(k) for k in keys]
    _KEYS.clear()
    _KEYS.update({k.keyid: k for k in session.trust.active_keys()})
    total = len(_BLOBS)
    slices = _halves(total, CORES)

    def best(run: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return total / min(times)

    one = best(lambda: _floor_slice(0, total))
    with ThreadPoolExecutor(CORES) as threads:
        two_threads = best(lambda: list(threads.map(_floor_slice, *zip(*slices, strict=True))))
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(CORES, mp_context=fork) as processes:
        list(processes.map(_floor_slice, [0] * CORES, [0] * CORES))  # started and warm
        two_cores = best(lambda: list(processes.map(_floor_slice, *zip(*slices, strict=True))))
    return one, two_threads, two_cores


def evict_from_page_cache(folder: Path) -> bool:
    """Drop the files under ``folder`` from the page cache, as if read from disk for the
    first time (what an auditor's ``audit verify`` of a ledger usually meets); False
    where the system takes no such advice."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def verify_rate(
    ledger, workers: int, repeats: int, packs: bool = True, cold: Path | None = None
) -> float:  # type: ignore[no-untyped-def]
    """Best entries/s of ``verify_ledger`` with ``workers`` processes (1: serial); with
    ``cold``, that folder's files are evicted from the page cache before each run."""
    from gates.ledger.parallel_verify import Parallelism
    from gates.ledger.verify import verify_ledger

    # min_entries=0: the smoke size still goes through the workers.
    parallel = Parallelism(workers=workers, min_entries=0) if workers > 1 else None
    rates = []
    for _ in range(repeats):
        if cold is not None:
            evict_from_page_cache(cold)
        start = time.perf_counter()
        report = verify_ledger(ledger, parallel=parallel, packs=packs)
        elapsed = time.perf_counter() - start
        assert report.intact, report.violations[:3]
        rates.append(report.entries / elapsed)
    return max(rates)


def _fresh_rate(root: Path, uri: str, workers: int, packs: bool) -> float:
    from gates.ledger.chain import Ledger
    from gates.store.factory import open_store
    from gates.workspace.session import Session

    session = Session.open(root)
    ledger = Ledger(open_store(uri), session.trust, session.clock)
    return verify_rate(ledger, workers, 1, packs)


def _rate_in_fresh_process(root: Path, uri: str, workers: int, repeats: int, packs: bool) -> float:
    """Best entries/s of ``repeats`` runs, each in a new process (started untimed)."""
    spawn = multiprocessing.get_context("spawn")
    rates = []
    for _ in range(repeats):
        with ProcessPoolExecutor(1, mp_context=spawn) as fresh:
            rates.append(fresh.submit(_fresh_rate, root, uri, workers, packs).result())
    return max(rates)


def _pack(uri: str) -> int:
    from gates.ledger.chain import Ledger
    from gates.signing.trust import TrustStore
    from gates.store.factory import open_store

    packed = Ledger(open_store(uri), TrustStore({})).pack()
    assert packed is not None, f"{uri} lists no checksums"
    return packed.entries_packed


def _pack_elsewhere(uri: str) -> int:
    """Pack the store from a fresh process, as the nightly checkpoint would."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as other:
        packed = other.submit(_pack, uri).result()
    assert packed, "nothing was packed"
    return packed


def main(size: Size = FULL) -> None:
    from bench.ledger_gen import copy_store, generate, workspace
    from gates.stack.seaweedfs import SeaweedFS
    from gates.store.s3 import S3Store

    with tempfile.TemporaryDirectory() as tmp:
        session = workspace(Path(tmp) / "ws")
        start = time.perf_counter()
        total = generate(session, size.usecases, size.per_chain)
        print(f"generated {total} signed entries in {time.perf_counter() - start:.1f} s")
        keys = session.store.list_keys("chains/")
        one, threads, floor = floor_rates(session, keys, size.repeats)
        print(f"floor, in memory (Ed25519 verify + JSON parse), on {os.cpu_count()} core(s):")
        print(f"  one core                                    {one:9,.0f} entries/s")
        print(
            f"  {CORES} threads                                   {threads:9,.0f} entries/s  "
            f"({threads / one:.2f}× one core: the GIL)"
        )
        print(
            f"  {CORES} cores (processes)  = the two-core floor     {floor:9,.0f} entries/s  "
            f"({floor / one:.2f}× one core)"
        )

        def line(where: str, rate: float, target: float | None) -> None:
            goal = f"; target ≥ {target}×" if target else ""
            print(
                f"audit verify, {where:30s}{rate:9,.0f} entries/s  "
                f"({rate / floor:.2f}× the two-core floor{goal})",
                flush=True,
            )

        line("folder store, serial", verify_rate(session.ledger, 1, size.repeats), None)
        line(
            f"folder store, {CORES} workers", verify_rate(session.ledger, CORES, size.repeats), 0.7
        )
        folder = session.store.root
        if evict_from_page_cache(folder):
            # Not a target: how a ledger read from the disk verifies (files read ahead).
            for workers, label in ((1, "serial"), (CORES, f"{CORES} workers")):
                rate = verify_rate(session.ledger, workers, size.repeats, cold=folder)
                line(f"folder, {label}, from disk", rate, None)
        with SeaweedFS() as s3:
            os.environ.update(s3.env())
            s3.create_bucket("bench-ledger")
            store = S3Store("bench-ledger", "ledger")
            start = time.perf_counter()
            copy_store(session.store, store)
            print(f"uploaded to SeaweedFS in {time.perf_counter() - start:.1f} s")
            # Each S3 figure is taken in a fresh process, as `audit verify` runs: reading
            # S3 in bulk starts native threads, so a process that has done so once
            # starts its next workers as new interpreters instead of forking them.
            fresh = partial(_rate_in_fresh_process, session.workspace.root, store.uri)
            line(f"SeaweedFS S3, {CORES} workers, no packs", fresh(CORES, 1, False), None)
            line("SeaweedFS S3, serial, no packs", fresh(1, 1, False), None)
            start = time.perf_counter()
            packed = _pack_elsewhere(store.uri)
            print(
                f"packed {packed} entries in {time.perf_counter() - start:.1f} s "
                f"(`stagegate audit pack`, in a process of its own)"
            )
            line("SeaweedFS S3, serial, packs", fresh(1, size.repeats, True), None)
            line(f"SeaweedFS S3, {CORES} workers, packs", fresh(CORES, size.repeats, True), 0.5)
