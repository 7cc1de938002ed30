"""The README's quickstart, run literally in an empty folder, ends with a use case in PoC.

The commands are read from the README's fenced block marked ``sh quickstart`` and run
as they are, one shell script, on the system clock (no ``--at``), with ``stagegate``
on the PATH as the install step above the block leaves it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```sh quickstart\n(.*?)^```$", flags=re.MULTILINE | re.DOTALL)


def quickstart_commands() -> list[str]:
    blocks = FENCE.findall((ROOT / "README.md").read_text("utf-8"))
    assert len(blocks) == 1, "the README has one ```sh quickstart block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_the_readme_quickstart_runs_from_an_empty_folder_to_poc(tmp_path: Path) -> None:
    commands = quickstart_commands()
    assert commands[0].startswith("stagegate init ")
    assert not any("--at" in c for c in commands)
    folder = tmp_path / "empty"
    folder.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("STAGEGATE_WORKSPACE", "STAGEGATE_STORE", "PREFECT_API_URL")
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = "set -eu\n" + "\n".join(commands) + "\n"
    result = subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "WOULD PASS" in result.stdout and "is now in PoC" in result.stdout

    workspace = folder / "my-gates"
    status = subprocess.run(
        [sys.executable, "-m", "gates.cli", "--workspace", str(workspace), "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert [(r["id"], r["stage"]) for r in json.loads(status.stdout)] == [("my-use-case", "poc")]
    verified = subprocess.run(
        [
            sys.executable,
            "-m",
            "gates.cli",
            "--workspace",
            str(workspace),
            "audit",
            "verify",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(verified.stdout)
    assert verified.returncode == 0 and report["entries"] == 4
    assert report["simulatedClock"] is False
