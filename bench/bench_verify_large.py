"""``audit verify`` at scale, from SeaweedFS: 100,000 entries over 1,000 use cases, and
10,000 over 100, each with a signed checkpoint, to show throughput and that peak memory
does not grow with the ledger.

Targets: ≥ 2,000 entries/s; peak RSS ≤ 300 MB and flat between the two sizes. Each
verification is the real CLI in its own process; its peak RSS comes from ``wait4`` (the
kernel's high-water mark for that one child), its rate from wall time including start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

SIZES = ((100, 100), (1_000, 100))  # (use cases, entries per chain)
CHUNK = 50  # use cases per generator task
UPLOAD_THREADS = 16


def _generate_slice(root: str, start: int, stop: int, per_chain: int) -> int:
    """Write chains ``uc-<start>`` … ``uc-<stop-1>`` like ``ledger_gen.generate`` does."""
    from bench.ledger_gen import T0
    from gates.engine.session import Session
    from gates.ledger.replay import ChainState, apply_entry
    from gates.policy import criteria_digest, effective_criteria
    from gates.signing.signers import load_signer
    from gates.stages import Stage

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


def verify_in_child(
    workspace: Path, store_uri: str, env: dict[str, str]
) -> tuple[dict, float, float]:  # type: ignore[type-arg]
    """Run ``stagegate audit verify --json`` against ``store_uri``: (report, seconds, peak MB)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "gates.cli", "--workspace", str(workspace), "audit", "verify", "--json"],
            stdout=out,
            stderr=subprocess.PIPE,
            env={**os.environ, **env, "STAGEGATE_STORE": store_uri},
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in (0, 1):
            raise SystemExit(
                f"audit verify failed ({child.returncode}): {child.stderr.read().decode()}"
            )  # type: ignore[union-attr]
        out.seek(0)
        report = json.loads(out.read())
    return report, elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    from bench.ledger_gen import workspace
    from gates.ledger.checkpoint import write_checkpoint
    from gates.stack.seaweedfs import SeaweedFS
    from gates.store.s3 import S3Store

    results: list[tuple[int, int, float, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp, SeaweedFS() as s3:
        s3_env = s3.env()
        os.environ.update(s3_env)
        bucket = s3.create_bucket("bench-verify-large")
        for usecases, per_chain in SIZES:
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
            report, seconds, peak = verify_in_child(ws, f"s3://{bucket}/{prefix}", s3_env)
            rate = report["entries"] / seconds
            state = "intact" if report["intact"] else f"{len(report['violations'])} violation(s)"
            print(
                f"  audit verify: {report['entries']:,} entries in {seconds:.1f} s = "
                f"{rate:,.0f} entries/s, peak RSS {peak:.0f} MB, {state}, "
                f"{report['checkpoints']['verified']} checkpoint(s)",
                flush=True,
            )
            results.append((usecases, report["entries"], rate, peak, len(report["violations"])))
    (_, small_n, small_rate, small_rss, _), (_, large_n, large_rate, large_rss, _) = results
    print(
        f"\nentries/s: {small_rate:,.0f} at {small_n:,}, {large_rate:,.0f} at {large_n:,} "
        f"(target ≥ 2,000; large/target = {large_rate / 2000:.2f})"
    )
    print(
        f"peak RSS: {small_rss:.0f} MB at {small_n:,}, {large_rss:.0f} MB at {large_n:,} "
        f"(target ≤ 300 MB and flat; {large_n / small_n:.0f}× the entries → "
        f"{large_rss / small_rss:.2f}× the memory)"
    )
