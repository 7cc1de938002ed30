"""``audit verify`` at scale, from SeaweedFS: 100,000 entries over 1,000 use cases, and
10,000 over 100, each with a signed checkpoint, to show throughput and that peak memory
does not grow with the ledger.

Targets: ≥ 2,000 entries/s; peak RSS ≤ 300 MB and flat between the two sizes. Each
verification is the real CLI in its own process (one worker process per core), run twice (the first right after the
upload, while SeaweedFS is still settling); its peak RSS is the process's own VmHWM, its
rate comes from wall time including interpreter start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Size:
    #: The smaller ledger, then the larger one: (use cases, entries per chain).
    ledgers: tuple[tuple[int, int], tuple[int, int]]


FULL = Size(ledgers=((100, 100), (1_000, 100)))
SMOKE = Size(ledgers=((2, 4), (4, 4)))
CHUNK = 50  # use cases per generator task
UPLOAD_THREADS = 16


def _generate_slice(root: str, start: int, stop: int, per_chain: int) -> int:
    """Write chains ``uc-<start>`` … ``uc-<stop-1>`` like ``ledger_gen.generate`` does."""
    from bench.ledger_gen import T0
    from gates.ledger.replay import ChainState, apply_entry
    from gates.policy import criteria_digest, effective_criteria
    from gates.signing.signers import load_signer
    from gates.stages import Stage
    from gates.workspace.session import Session

    session = Session.open(Path(root))
    ledger, gate = session.ledger, session.signer
    sponsor = load_signer("file:keys/sponsor.pem", session.workspace.root)
    criteria = effective_criteria(Stage.EXPLORE)
    digest = criteria_digest(criteria)
    lock = {"stage": "explore", "digest": digest, "criteria": criteria.model_dump(mode="json")}
    for i in range(start, stop):
        state = ChainState(usecase=f"uc-{i:05d}")
        entry = ledger.append(
            state, gate, kind="registration", after=Stage.EXPLORE, actor="bench", time=T0,
            records={"lock": lock},
        )  # fmt: skip
        state, _ = apply_entry(state, entry, ledger.trust, keep_history=False)
        for n in range(1, per_chain):
            approval = {
                "purpose": "promotion", "role": "sponsor", "approver": "Dana Park",
                "from": "explore", "to": "poc", "criteriaDigest": digest, "note": f"review {n}",
            }  # fmt: skip
            entry = ledger.append(
                state, sponsor, kind="approval", after=Stage.EXPLORE, actor="Dana Park",
                time=T0 + timedelta(minutes=n), records={"approval": approval},
            )  # fmt: skip
            state, _ = apply_entry(state, entry, ledger.trust, keep_history=False)
    return (stop - start) * per_chain


def generate_parallel(root: Path, usecases: int, per_chain: int) -> int:
    """Generate in one process per CPU, all writing create-only into the same local store."""
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        tasks = [
            pool.submit(_generate_slice, str(root), lo, min(lo + CHUNK, usecases), per_chain)
            for lo in range(0, usecases, CHUNK)
        ]
        return sum(t.result() for t in tasks)


def upload(source: object, target: object) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from gates.store.interface import ObjectStore

    assert isinstance(source, ObjectStore) and isinstance(target, ObjectStore)
    keys = source.list_keys("chains/") + source.list_keys("checkpoints/")
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        list(pool.map(lambda k: target.put_new(k, source.get(k)), keys))
    return len(keys)


#: Runs the CLI exactly as ``python -m gates.cli`` would, then reports the process's own
#: peak RSS (VmHWM) on stderr at exit. ``wait4``'s ru_maxrss would not do: a child
#: started by (v)fork inherits the parent's high-water mark across exec, and the parent
#: here holds a generated ledger.
_CHILD = """
import atexit, resource, runpy, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KB " + line.split()[1] + "\\n")
    # The largest worker process (verification forks one per core); its pages shared
    # with this process count in both.
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write("WORKER_PEAK_KB " + str(workers) + "\\n")
atexit.register(_peak)
sys.argv = ["stagegate", *sys.argv[1:]]
runpy.run_module("gates.cli", run_name="__main__")
"""


def verify_in_child(
    workspace: Path, store_uri: str, env: dict[str, str]
) -> tuple[dict[str, Any], float, float, float]:
    """Run ``stagegate audit verify --json`` (one worker per core) against ``store_uri``:
    (report, seconds, peak MB of the command, peak MB of its largest worker)."""
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, "--workspace", str(workspace), "audit", "verify", "--json"],
        capture_output=True,
        env={**os.environ, **env, "STAGEGATE_STORE": store_uri},
        check=False,
    )
    elapsed = time.perf_counter() - start
    if child.returncode not in (0, 1):
        raise SystemExit(f"audit verify failed ({child.returncode}): {child.stderr.decode()}")
    lines = child.stderr.decode().splitlines()
    peak = [line for line in lines if line.startswith("PEAK_KB ")][-1]
    worker = [line for line in lines if line.startswith("WORKER_PEAK_KB ")][-1]
    return json.loads(child.stdout), elapsed, _mb(peak), _mb(worker)


def _mb(line: str) -> float:
    return int(line.split()[1]) / 1024


def main(size: Size = FULL) -> None:
    from bench.ledger_gen import workspace
    from gates.engine.checkpoints import write_checkpoint
    from gates.stack.seaweedfs import SeaweedFS
    from gates.store.s3 import S3Store

    results: list[tuple[int, float, float]] = []  # entries, best entries/s, peak MB
    with tempfile.TemporaryDirectory() as tmp, SeaweedFS() as s3:
        s3_env = s3.env()
        os.environ.update(s3_env)
        bucket = s3.create_bucket("bench-verify-large")
        for usecases, per_chain in size.ledgers:
            ws = Path(tmp) / f"ws-{usecases}"
            session = workspace(ws)
            start = time.perf_counter()
            total = generate_parallel(ws, usecases, per_chain)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            write_checkpoint(session.ledger, session.signer)
            checkpointed = time.perf_counter() - start
            print(
                f"{total:,} entries over {usecases:,} use cases: generated in {generated:.1f} s "
                f"({os.cpu_count()} processes), checkpoint (verifies all, local) {checkpointed:.1f} s",
                flush=True,
            )
            prefix = f"ledger-{usecases}"
            start = time.perf_counter()
            copied = upload(session.store, S3Store(bucket, prefix))
            print(
                f"  uploaded {copied:,} objects to SeaweedFS in {time.perf_counter() - start:.1f} s "
                f"({UPLOAD_THREADS} threads)",
                flush=True,
            )
            runs: list[tuple[float, float]] = []
            for attempt in ("right after upload", "again"):
                report, seconds, peak, worker = verify_in_child(
                    ws, f"s3://{bucket}/{prefix}", s3_env
                )
                rate = report["entries"] / seconds
                state = (
                    "intact" if report["intact"] else f"{len(report['violations'])} violation(s)"
                )
                print(
                    f"  audit verify ({attempt}): {report['entries']:,} entries in {seconds:.1f} s "
                    f"= {rate:,.0f} entries/s, peak RSS {peak:.0f} MB "
                    f"({f'largest worker {worker:.0f} MB' if worker else 'in one process'}), "
                    f"{state}, "
                    f"{report['checkpoints']['verified']} checkpoint(s)",
                    flush=True,
                )
                # A generated ledger that fails verification no longer matches the rules:
                # its rate would be that of a different job.
                if not report["intact"]:
                    raise RuntimeError(f"generated ledger not intact: {report['violations'][:3]}")
                runs.append((rate, peak))
            results.append((report["entries"], max(r for r, _ in runs), max(p for _, p in runs)))
    (small_n, small_rate, small_rss), (large_n, large_rate, large_rss) = results
    print(
        f"\nbest entries/s: {small_rate:,.0f} at {small_n:,}, {large_rate:,.0f} at {large_n:,} "
        f"(target ≥ 2,000; large/target = {large_rate / 2000:.2f})"
    )
    print(
        f"peak RSS: {small_rss:.0f} MB at {small_n:,}, {large_rss:.0f} MB at {large_n:,} "
        f"(target ≤ 300 MB and flat; {large_n / small_n:.0f}× the entries → "
        f"{large_rss / small_rss:.2f}× the memory)"
    )
