"""Cold start of auditor commands vs a bare interpreter. Target: ≤ 0.6 s."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Size:
    runs: int  # timed runs of each command; the median is reported


FULL = Size(runs=7)
SMOKE = Size(runs=1)


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, check=False, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        # A command that fails measures its error path, not its start-up.
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    return statistics.median(samples)


def main(size: Size = FULL) -> None:
    from tests.support.presets import ledger_world

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        world = ledger_world(root)
        world.register("alpha")
        world.register("beta")
        stagegate = [sys.executable, "-m", "gates.cli"]
        baseline = timed([sys.executable, "-c", "pass"], size.runs)
        status = timed([*stagegate, "--workspace", str(root), "status"], size.runs)
        helptext = timed([*stagegate, "audit", "verify", "--help"], size.runs)
        verify = timed([*stagegate, "--workspace", str(root), "audit", "verify"], size.runs)
    print(f"python -c pass              {baseline * 1000:7.0f} ms (median of {size.runs})")
    for name, value in (
        ("stagegate status", status),
        ("stagegate audit verify --help", helptext),
        ("stagegate audit verify", verify),
    ):
        verdict = "ok" if value <= 0.6 else "OVER TARGET"
        print(
            f"{name:28s}{value * 1000:7.0f} ms  ({value / baseline:4.1f}× bare python; target ≤ 600 ms: {verdict})"
        )
