"""The Prefect API a command's flows run on (``flows.prefect_api``), seen from the command's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect

#: A command's flow on the temporary server (async, as the gate flow is), with an events
#: client made slow (100 ms an event), as Prefect's events worker is on a busy machine.
SLOW_EVENTS_COMMAND = """
import asyncio
from prefect import flow, task
from prefect.events.clients import PrefectEventsClient

from flows.prefect_api import flow_api

emit = PrefectEventsClient.emit

async def slow_emit(self, event):
    await asyncio.sleep(0.1)
    await emit(self, event)

PrefectEventsClient.emit = slow_emit

@task
def step(number):
    return number

@flow
async def steps():
    return [step(number) for number in range(5)]

with flow_api().active():
    asyncio.run(steps())
print("flow done", flush=True)
"""


def test_a_command_exiting_right_after_its_flow_prints_no_prefect_warning(tmp_path: Path) -> None:
    """The events client is slowed down on purpose (a stand-in for a loaded machine): a
    command that exits while Prefect's events worker still has events queued gets
    ``WARNING | EventsWorker - Still processing items`` on its terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        TMPDIR=str(tmp_path),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        PREFECT_LOGGING_LEVEL="WARNING",
        DO_NOT_TRACK="true",
    )
    result = subprocess.run(
        [sys.executable, "-c", SLOW_EVENTS_COMMAND],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr
    assert "flow done" in result.stdout
    assert "Still processing items" not in result.stderr
    assert "WARNING" not in result.stdout + result.stderr
