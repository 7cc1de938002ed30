"""The bench runner: every bench module is registered, has a smoke size, and a failure fails the run."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from bench import BENCHES
from bench.__main__ import run_all

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def test_the_registry_lists_every_bench_module() -> None:
    modules = {path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py")}
    assert sorted(BENCHES) == sorted(modules)


@pytest.mark.parametrize("name", BENCHES)
def test_every_bench_has_a_full_and_a_smaller_smoke_size(name: str) -> None:
    module = importlib.import_module(f"bench.bench_{name}")
    assert isinstance(module.FULL, module.Size)
    assert isinstance(module.SMOKE, module.Size)
    assert module.SMOKE != module.FULL
    assert list(inspect.signature(module.main).parameters) == ["size"]


def test_a_bench_that_raises_fails_the_run_and_the_others_still_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("set-up no longer matches the rules")

    status = run_all([("broken", broken), ("fine", lambda: ran.append("fine"))])

    assert status == 1
    assert ran == ["fine"]
    out, err = capsys.readouterr()
    assert "set-up no longer matches the rules" in err
    assert "bench broken FAILED" in out
    assert "FAILED: broken" in err


def test_a_bench_that_stops_with_system_exit_fails_the_run() -> None:
    def missing_module() -> None:
        raise SystemExit("/usr/lib/softhsm/libsofthsm2.so missing")

    assert run_all([("signers", missing_module)]) == 1


def test_benches_that_all_run_pass_the_run() -> None:
    assert run_all([("a", lambda: None), ("b", lambda: None)]) == 0


def test_an_unknown_bench_name_is_refused_with_the_known_ones() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "no-such-bench"],
        capture_output=True,
        text=True,
        cwd=BENCH_DIR.parent,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown bench: no-such-bench" in done.stderr
    assert "coldstart" in done.stderr
