"""A promotion whose gate entry landed but whose answer was lost is resolved, then finished.

Real parts: the session's SeaweedFS S3 behind a fault-injecting proxy
(``tests/lossy_proxy.py``), a SQLite MLflow registry, the ``stagegate`` command in a
subprocess. The proxy forwards the PUT of the gate entry, drops the connection without
the answer, and refuses connections ("the server is gone"); later it forwards again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gates.engine.actions import promote
from gates.stack.seaweedfs import SeaweedFS
from gates.stages import Stage
from gates.workspace.session import Session
from tests.lossy_proxy import LossyProxy, is_entry_put
from tests.support.mlflow import sqlite_tracking_store
from tests.support.presets import GATE_TIME, UC, model_gate_world
from tests.support.world import World

pytestmark = pytest.mark.s3

STAGEGATE = [sys.executable, "-m", "gates.cli"]


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real SQLite MLflow store for the module (its migrations take seconds)."""
    return sqlite_tracking_store(tmp_path_factory.mktemp("mlflow"))


def alias_version(tracking_uri: str, model: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        found = MlflowClient(tracking_uri=tracking_uri).get_model_version_by_alias(model, alias)
    except MlflowException:
        return None
    return str(found.version)


def stagegate(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """The command, in a subprocess that reaches S3 through the proxy (AWS_ENDPOINT_URL)."""
    return subprocess.run(
        [*STAGEGATE, "--workspace", str(world.root), *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def gate_entries(world: World) -> list[int]:
    return [e.sequence for e in world.state(UC).history if e.predicate.kind == "gate"]


def promote_cli(world: World) -> subprocess.CompletedProcess[str]:
    return stagegate(
        world, "promote", UC, "--to", "poc", "--in-process", "--at", GATE_TIME.isoformat()
    )


def test_a_gate_whose_answer_is_lost_while_s3_is_gone_says_it_may_exist_then_rerun_finishes(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS, tracking_uri: str, tmp_path: Path
) -> None:
    world, model, version = model_gate_world(
        tmp_path / "ws", tracking_uri, alias="poc", store=f"s3://{s3_bucket}"
    )
    sequence = world.state(UC).next_sequence
    key = f"chains/{UC}/{sequence:012d}.dsse.json"
    lossy_s3.lose_answers(is_entry_put, then_gone=True)

    lost = promote_cli(world)

    assert lost.returncode == 2, lost.stdout + lost.stderr
    assert "Traceback" not in lost.stderr
    message = " ".join(lost.stderr.split())
    assert f"entry #{sequence} may have been written" in message
    assert key in message
    assert f"stagegate audit log {UC}" in message
    assert f"re-running `stagegate promote {UC} --to poc` is safe" in message
    # What really happened: the passing gate is stored, the alias never moved.
    stored = seaweedfs.client().list_objects_v2(Bucket=s3_bucket, Prefix=f"chains/{UC}/")
    assert key in [item["Key"] for item in stored.get("Contents", [])]
    assert alias_version(tracking_uri, model, "poc") is None

    lossy_s3.restore()
    finished = promote_cli(world)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    said = " ".join(finished.stdout.split())
    assert f"found the existing gate entry #{sequence}" in said
    assert f"moved models:/{model}@poc -> {version}" in said
    assert alias_version(tracking_uri, model, "poc") == version
    assert gate_entries(world) == [sequence]
    assert world.state(UC).stage is Stage.POC
    verified = stagegate(world, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_gate_whose_answer_is_lost_while_s3_stays_up_is_recorded_once(
    lossy_s3: LossyProxy, s3_bucket: str, tracking_uri: str, tmp_path: Path
) -> None:
    world, model, version = model_gate_world(
        tmp_path / "ws", tracking_uri, alias="poc", store=f"s3://{s3_bucket}"
    )
    session = Session.open(world.root)
    sequence = world.state(UC).next_sequence
    attempts = int(session.store.client.meta.config.retries["total_max_attempts"])  # type: ignore[attr-defined]
    lossy_s3.lose_answers(is_entry_put, times=attempts)

    outcome = promote(session, UC, Stage.POC, now=GATE_TIME)

    assert len(lossy_s3.lost) == attempts
    assert outcome.promoted and not outcome.resumed
    assert outcome.entry.sequence == sequence
    assert outcome.alias == f"models:/{model}@poc -> {version}"
    assert gate_entries(world) == [sequence]
    assert alias_version(tracking_uri, model, "poc") == version
