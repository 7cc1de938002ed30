"""``python -m bench [--smoke] [NAME ...]``: run every bench (or the ones named).

Each bench runs at its full size, or with ``--smoke`` at a tiny one. A bench that fails
(raises, or stops because its set-up could not be made) is reported and the others still
run; the exit status is then 1. An unknown name is exit 2.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from functools import partial

from bench import BENCHES

USAGE = f"usage: python -m bench [--smoke] [NAME ...]   (names: {', '.join(BENCHES)})"
SMOKE_HEADER = (
    "smoke run: every bench at a tiny size, to show that it still runs. The figures below "
    "are printed but mean nothing at these sizes (nor do the targets they are held to)."
)


def run_bench(name: str, *, smoke: bool) -> None:
    """Run ``bench/bench_NAME.py`` at its smoke or full size."""
    module = importlib.import_module(f"bench.bench_{name}")
    module.main(module.SMOKE if smoke else module.FULL)


def run_all(benches: Sequence[tuple[str, Callable[[], object]]], *, suffix: str = "") -> int:
    """Run each bench in turn, reporting those that fail; 1 if any failed, else 0."""
    seconds: dict[str, float] = {}
    failed: list[str] = []
    for name, bench in benches:
        print(f"\n== {name}{suffix} ==", flush=True)
        start = time.perf_counter()
        try:
            bench()
        # SystemExit too: a bench stops that way when its set-up cannot be made.
        except (Exception, SystemExit):
            traceback.print_exc()
            print(f"bench {name} FAILED", flush=True)
            failed.append(name)
        else:
            seconds[name] = time.perf_counter() - start
    times = ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items())
    print(f"\n{len(seconds)} of {len(benches)} benches ran ({times})", flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(USAGE)
        return 0
    smoke = "--smoke" in argv
    names = [a for a in argv if a != "--smoke"] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)}\n{USAGE}", file=sys.stderr)
        return 2
    if smoke:
        print(SMOKE_HEADER)
    benches = [(name, partial(run_bench, name, smoke=smoke)) for name in names]
    return run_all(benches, suffix=" (smoke)" if smoke else "")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
