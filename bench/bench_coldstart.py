"""Cold start of auditor commands vs a bare interpreter. Target: ≤ 0.6 s."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7


def timed(cmd: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    from gates.engine.actions import register
    from gates.engine.session import Session
    from tests.ledger.conftest import T0, build_workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        build_workspace(root)
        session = Session.open(root)
        register(session, "alpha", now=T0)
        register(session, "beta", now=T0)
        stagegate = [sys.executable, "-m", "gates.cli"]
        baseline = timed([sys.executable, "-c", "pass"])
        status = timed([*stagegate, "--workspace", str(root), "status"])
        helptext = timed([*stagegate, "audit", "verify", "--help"])
        verify = timed([*stagegate, "--workspace", str(root), "audit", "verify"])
    print(f"python -c pass              {baseline * 1000:7.0f} ms (median of {RUNS})")
    for name, value in (
        ("stagegate status", status),
        ("stagegate audit verify --help", helptext),
        ("stagegate audit verify", verify),
    ):
        verdict = "ok" if value <= 0.6 else "OVER TARGET"
        print(
            f"{name:28s}{value * 1000:7.0f} ms  ({value / baseline:4.1f}× bare python; target ≤ 600 ms: {verdict})"
        )
