"""The ``stagegate`` command as users run it: a new process, no workspace from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

STAGEGATE = [sys.executable, "-m", "gates.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    return subprocess.run(
        [*STAGEGATE, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )
