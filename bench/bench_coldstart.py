"""Cold start of the read-only commands vs a bare interpreter, in the same run.

Target (issue "Performance"): ``stagegate status`` ≤ 250 ms and ≤ 15× ``python -c pass``;
``audit verify`` and ``audit log`` are held to the same. Runs are interleaved (one of
each command per round) so that a busy machine slows every command alike and the ratios
stay comparable. Wall time is the figure; CPU time (user + system of the process) is
printed beside it, as it moves less when other work shares the cores.

The commands run as users run them, through the ``stagegate`` script installed next to
the interpreter, on bytecode compiled first: where ``PYTHONDONTWRITEBYTECODE`` is set,
Python writes no bytecode for a source file edited since installation, and every start
would compile it again (``make`` compiles at install for the same reason). A reference
line times the third-party imports ``status`` cannot do without (pydantic building one
model, PyYAML, Rich), to show how much of the start is stagegate's own.
"""

from __future__ import annotations

import compileall
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter


@dataclass(frozen=True)
class Size:
    runs: int  # timed runs of each command; the median is reported


FULL = Size(runs=9)
SMOKE = Size(runs=1)

TARGET_SECONDS = 0.250
TARGET_RATIO = 15.0


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def run_once(cmd: list[str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    wall = perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # A command that fails measures its error path, not its start-up.
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def timed(commands: dict[str, list[str]], runs: int) -> dict[str, Timing]:
    """The median wall and CPU time of each command, measured round by round."""
    samples: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            samples[name].append(run_once(cmd))
    return {
        name: Timing(
            statistics.median(t.wall for t in taken), statistics.median(t.cpu for t in taken)
        )
        for name, taken in samples.items()
    }


#: What ``status`` imports from other projects and uses (one model built, with pydantic's
#: plugins off as the command has them; cryptography only loads for new signatures).
LIBRARIES_ALONE = (
    "import os\n"
    "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
    "import pydantic, yaml, rich.console, rich.table\n"
    "class M(pydantic.BaseModel):\n    x: int"
)


def stagegate_command() -> list[str]:
    """The installed ``stagegate`` script, or ``python -m gates.cli`` where there is none."""
    script = Path(sys.executable).with_name("stagegate")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gates.cli"]


def compile_sources() -> None:
    """Bring the package's bytecode up to date, as ``make`` does at install."""
    import gates

    compileall.compile_dir(Path(gates.__file__).parent, quiet=1)


def main(size: Size = FULL) -> None:
    from tests.support.presets import registered_ledger_world

    compile_sources()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        registered_ledger_world(root)
        stagegate = [*stagegate_command(), "--workspace", str(root)]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "libraries alone": [sys.executable, "-c", LIBRARIES_ALONE],
            "stagegate status": [*stagegate, "status"],
            "stagegate status --json": [*stagegate, "status", "--json"],
            "stagegate audit verify": [*stagegate, "audit", "verify"],
            "stagegate audit verify --json": [*stagegate, "audit", "verify", "--json"],
            "stagegate audit log alpha": [*stagegate, "audit", "log", "alpha"],
            "stagegate audit verify --help": [*stagegate, "audit", "verify", "--help"],
        }
        results = timed(commands, size.runs)
    baseline = results.pop("python -c pass")
    print(
        f"{'python -c pass':31s}{baseline.wall * 1000:6.0f} ms wall {baseline.cpu * 1000:6.0f} ms cpu"
        f"  (median of {size.runs}, interleaved)"
    )
    for name, value in results.items():
        ratio = value.wall / baseline.wall
        held = name.startswith("stagegate") and "--help" not in name
        verdict = "ok" if value.wall <= TARGET_SECONDS and ratio <= TARGET_RATIO else "OVER TARGET"
        print(
            f"{name:31s}{value.wall * 1000:6.0f} ms wall {value.cpu * 1000:6.0f} ms cpu"
            f"  {ratio:5.1f}× bare python"
            + (
                f"  (target ≤ {TARGET_SECONDS * 1000:.0f} ms and ≤ {TARGET_RATIO:.0f}×: {verdict})"
                if held
                else ""
            )
        )
