"""``audit verify`` throughput over 10,000 entries, from SeaweedFS and the local store,
against the floor: Ed25519 verify + JSON parse of the same bytes in memory.

Targets: ≥ 2,000 entries/s from SeaweedFS; local store within 5× of the floor.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Size:
    usecases: int
    per_chain: int  # entries in each use case's chain


FULL = Size(usecases=100, per_chain=100)
SMOKE = Size(usecases=3, per_chain=4)


def floor_rate(session, keys: list[str]) -> float:  # type: ignore[no-untyped-def]
    from gates.signing.dsse import parse_envelope

    blobs = [session.store.get(k) for k in keys]
    keys_by_id = {k.keyid: k for k in session.trust.active_keys()}
    start = time.perf_counter()
    for raw in blobs:
        envelope = parse_envelope(raw, "bench")
        sig = envelope.signatures[0]
        from gates.signing.dsse import pae

        assert keys_by_id[sig.keyid].verify(sig.sig, pae(envelope.payload_type, envelope.payload))
        json.loads(envelope.payload)
    return len(blobs) / (time.perf_counter() - start)


def verify_rate(ledger) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    from gates.ledger.verify import verify_ledger

    start = time.perf_counter()
    report = verify_ledger(ledger)
    elapsed = time.perf_counter() - start
    assert report.intact, report.violations[:3]
    return report.entries / elapsed, report.entries


def main(size: Size = FULL) -> None:
    from bench.ledger_gen import copy_store, generate, ledger_over, workspace
    from gates.stack.seaweedfs import SeaweedFS
    from gates.store.s3 import S3Store

    with tempfile.TemporaryDirectory() as tmp:
        session = workspace(Path(tmp) / "ws")
        start = time.perf_counter()
        total = generate(session, size.usecases, size.per_chain)
        print(f"generated {total} signed entries in {time.perf_counter() - start:.1f} s")
        keys = session.store.list_keys("chains/")
        floor = floor_rate(session, keys)
        local, _ = verify_rate(session.ledger)
        print(f"floor (in-memory Ed25519 verify + JSON parse)  {floor:9,.0f} entries/s")
        print(
            f"audit verify, local store                       {local:9,.0f} entries/s  "
            f"(floor/local = {floor / local:.1f}×; target ≤ 5×)"
        )
        with SeaweedFS() as s3:
            os.environ.update(s3.env())
            s3.create_bucket("bench-ledger")
            store = S3Store("bench-ledger", "ledger")
            start = time.perf_counter()
            copy_store(session.store, store)
            print(f"uploaded to SeaweedFS in {time.perf_counter() - start:.1f} s")
            remote, _ = verify_rate(ledger_over(session, store))
            print(
                f"audit verify, SeaweedFS S3                      {remote:9,.0f} entries/s  "
                f"(target ≥ 2,000; floor/S3 = {floor / remote:.1f}×)"
            )
