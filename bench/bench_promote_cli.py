"""``stagegate promote`` with no Prefect API configured: first and second run, end to end.

Each row is a fresh process, as a user types it, on the demo's PoC → Pilot gate (every
check, MLflow included; the gate blocks and signs an entry):

- ``--in-process``: the same gate without Prefect, the floor;
- ``stagegate promote`` (the local flow): stagegate launches Prefect's temporary server
  itself, before the flow's modules load (``flows.prefect_api``);
- Prefect's own temporary server: the same flow called as Python (``asyncio.run(
  gate_flow(...))``) with no API configured, so Prefect starts its server when the flow
  first needs it, as ``stagegate promote`` did before.

"first run" is a new ``PREFECT_HOME`` (the server creates and migrates its database);
"second run" reuses it. Rounds alternate between the rows, so load on the machine
touches them alike; the median is reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.bench_gate import setup

#: The flow as ``stagegate promote`` ran it before: Prefect starts its own server.
PREFECT_OWN_SERVER = """\
import asyncio, sys
from gates.cli.context import quiet_library_logs
quiet_library_logs()
from flows.gate_flow import gate_flow
asyncio.run(gate_flow(usecase="support-bot", to="pilot", workspace=sys.argv[1]))
"""


@dataclass(frozen=True)
class Size:
    rounds: int  # timed runs of each row; the median is reported


FULL = Size(rounds=5)
SMOKE = Size(rounds=1)


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    # Both rows alike: a first start (new database) outlasts Prefect's 20 s default on a
    # busy machine, and a row that times out measures nothing.
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    return env


def _timed(cmd: list[str], env: dict[str, str], ok: Callable[[int], bool]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if not ok(done.returncode):
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def _blocked(code: int) -> bool:
    return code == 1


def _completed(code: int) -> bool:
    return code == 0


def main(size: Size = FULL) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        setup(root)
        stagegate = [sys.executable, "-m", "gates.cli", "--workspace", str(root)]
        promote = [*stagegate, "promote", "support-bot", "--to", "pilot"]
        rows: dict[str, list[float]] = {}
        for n in range(size.rounds):
            homes = {
                "stagegate": Path(tmp) / f"home-stagegate-{n}",
                "prefect": Path(tmp) / f"home-prefect-{n}",
            }
            rows.setdefault("--in-process", []).append(
                _timed([*promote, "--in-process"], _environment(homes["stagegate"]), _blocked)
            )
            for run in ("first run", "second run"):
                rows.setdefault(f"stagegate promote, {run}", []).append(
                    _timed(promote, _environment(homes["stagegate"]), _blocked)
                )
                own = [sys.executable, "-c", PREFECT_OWN_SERVER, str(root)]
                rows.setdefault(f"Prefect's own server, {run}", []).append(
                    _timed(own, _environment(homes["prefect"]), _completed)
                )
    floor = statistics.median(rows["--in-process"])
    print(f"rounds: {size.rounds}; median seconds per command, and × the --in-process floor")
    for label, samples in rows.items():
        value = statistics.median(samples)
        print(f"  {label:36s}{value:6.1f} s  ({value / floor:4.1f}×)")
    for run in ("first run", "second run"):
        ours = statistics.median(rows[f"stagegate promote, {run}"])
        theirs = statistics.median(rows[f"Prefect's own server, {run}"])
        print(
            f"  {run}: stagegate's temporary server saves {theirs - ours:+.1f} s ({ours / theirs:.2f}×)"
        )
