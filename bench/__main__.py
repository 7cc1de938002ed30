"""``make bench``: run every benchmark (or the ones named: gate, signers, verify, verify_large,
coldstart, ui, recheck)."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("coldstart", "verify", "verify_large", "gate", "signers", "ui", "recheck")

if __name__ == "__main__":
    names = sys.argv[1:] or list(BENCHES)
    for name in names:
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"bench.bench_{name}").main()
