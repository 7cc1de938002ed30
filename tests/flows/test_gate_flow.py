"""The gate flow through a real Prefect API: verdicts, ledger writes, artifacts, retries."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from flows.gate_flow import IO_RETRIES, gate_flow, run_check_tasks, run_gate_flow
from gates.checks.interface import Check, CheckRegistry
from gates.checks.registry import DEFAULT_CHECKS, registry_of
from gates.engine.actions import promote, record_gate
from gates.engine.gate import GatePlan, evaluate_gate, plan_gate
from gates.errors import EvidenceError, PromotionRefused, StagegateError
from gates.report.gate_summary import artifact_key
from gates.results import CheckResult, Status
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.mlflow import sqlite_tracking_store
from tests.support.presets import GATE_TIME, UC, model_gate_world, run_flow
from tests.support.world import World

pytestmark = pytest.mark.prefect


def read_artifact(key: str, flow_run_id: uuid.UUID | None = None) -> Any:
    """The artifact a flow run published under ``key`` (by default the newest one).

    Artifacts under one key are versions of each other: every gate attempt adds one.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    wanted = ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
    if flow_run_id is not None:
        wanted.flow_run_id = ArtifactFilterFlowRunId(any_=[flow_run_id])
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=wanted, sort=ArtifactSort.CREATED_DESC)
    assert found, f"no artifact with key {key}"
    return found[0]


def task_run_names(flow_run_id: uuid.UUID, expected: int) -> list[str]:
    """Task runs reach the API as events the server records in batches: poll briefly."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 20
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(runs) >= expected or time.monotonic() > deadline:
                return sorted(run.name for run in runs)
            time.sleep(0.25)


def flow_run_log_lines(flow_run_id: uuid.UUID, wanted: str) -> list[str]:
    """The flow run's log messages in the API, once one contains ``wanted`` (or after 20 s).

    Prefect's log handler sends records to the API in batches, from a thread of its own.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + 20
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            messages = [log.message for log in logs]
            if any(wanted in m for m in messages) or time.monotonic() > deadline:
                return messages
            time.sleep(0.25)


def break_deliverable(world: World) -> None:
    """The priority matrix becomes a folder holding a dangling symlink: it cannot be hashed."""
    path = world.root / "docs" / "priority-matrix.csv"
    path.unlink()
    path.mkdir()
    # Relative, so a copy of the workspace dangles inside itself, not into the original.
    (path / "matrix.csv").symlink_to(Path("..") / ".." / "nowhere" / "matrix.csv")


def remove_deliverable(world: World) -> None:
    (world.root / "docs" / "priority-matrix.csv").unlink()


# -- the gate, end to end ----------------------------------------------------------------


def test_flow_promotes_explore_to_poc_and_publishes_a_summary_artifact(world: World) -> None:
    before = world.state(UC)

    final = run_flow(world, return_state=True)
    result = final.result()

    assert final.is_completed()
    assert result["verdict"] == "pass", result["failing"]
    assert (result["usecase"], result["from"], result["to"], result["stage"]) == (
        UC, "explore", "poc", "poc",
    )  # fmt: skip
    assert result["failing"] == [] and result["alias"] is None
    state = world.state(UC)
    assert state.stage is Stage.POC
    assert state.entries == before.entries + 1
    entry = state.history[-1]
    assert (entry.key, entry.digest, entry.sequence) == (
        result["entry_key"], result["entry_digest"], result["sequence"],
    )  # fmt: skip
    assert entry.predicate.gate is not None and entry.predicate.gate.verdict == "pass"
    json.dumps(result)  # the return value is plain JSON

    artifact = read_artifact("gate-ticket-triage-explore-to-poc", final.state_details.flow_run_id)
    assert artifact.type == "markdown"
    markdown = str(artifact.data)
    assert "**PASS**" in markdown
    assert result["entry_key"] in markdown and result["entry_digest"] in markdown
    for check in entry.predicate.gate.checks:
        assert f"| {check.check} | {check.status} |" in markdown

    # Explore's exit criteria judge no data, metrics, pilot, blockers or cost: those kinds
    # are left out of the plan, so the run has exactly one task per applicable kind.
    applicable = {
        "criteria_lock",
        "timebox",
        "sponsors",
        "approvals",
        "deliverables",
        "next_criteria",
    }
    assert applicable < set(DEFAULT_CHECKS)
    names = task_run_names(artifact.flow_run_id, expected=len(applicable) + 1)
    assert [n for n in names if n.startswith("check:")] == sorted(f"check:{k}" for k in applicable)
    assert next(n for n in names if not n.startswith("check:")).startswith("record-gate")


def test_flow_run_is_named_after_the_gate_in_the_api_and_in_prefects_log_lines(
    world: World,
) -> None:
    from prefect.client.orchestration import get_client

    final = run_flow(world, return_state=True)

    assert final.is_completed()
    flow_run_id = final.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(flow_run_id).name == f"gate-{UC}-to-poc"
    beginning = f"Beginning flow run 'gate-{UC}-to-poc' for flow 'stagegate-gate'"
    assert beginning in flow_run_log_lines(flow_run_id, beginning)


def test_missing_deliverable_blocks_and_records_a_blocked_entry(world: World) -> None:
    remove_deliverable(world)
    before = world.state(UC)

    result = run_flow(world)

    assert result["verdict"] == "blocked"
    assert result["stage"] == "explore"
    assert [(f["check"], f["status"]) for f in result["failing"]] == [
        ("deliverable:priority_matrix", "fail")
    ]
    state = world.state(UC)
    assert state.stage is Stage.EXPLORE
    assert state.entries == before.entries + 1
    gate = state.history[-1].predicate.gate
    assert gate is not None and gate.verdict == "blocked"
    markdown = str(read_artifact("gate-ticket-triage-explore-to-poc").data)
    assert "**BLOCKED**" in markdown and "| deliverable:priority_matrix | **fail** |" in markdown


def test_skipping_a_stage_fails_the_run_with_the_refusal_and_writes_nothing(
    world: World,
) -> None:
    before = world.state(UC)

    with pytest.raises(PromotionRefused, match="cannot move from explore to pilot"):
        run_flow(world, to="pilot")
    state = run_flow(world, to="pilot", return_state=True)

    assert state.is_failed()
    assert "cannot move from explore to pilot" in (state.message or "")
    after = world.state(UC)
    assert (after.entries, after.head_digest, after.stage) == (
        before.entries, before.head_digest, Stage.EXPLORE,
    )  # fmt: skip


def test_unknown_target_stage_fails_the_run_and_writes_nothing(world: World) -> None:
    before = world.state(UC)

    with pytest.raises(StagegateError, match="unknown stage 'prod'"):
        run_flow(world, to="prod")

    assert world.state(UC).entries == before.entries


def test_unreadable_deliverable_is_an_error_verdict_never_a_pass(world: World) -> None:
    break_deliverable(world)

    result = run_flow(world)

    assert result["verdict"] == "error"
    assert result["stage"] == "explore"
    failing = {f["check"]: f for f in result["failing"]}
    assert failing["deliverable:priority_matrix"]["status"] == "error"
    assert "not a readable file" in failing["deliverable:priority_matrix"]["reason"]
    state = world.state(UC)
    assert state.stage is Stage.EXPLORE
    gate = state.history[-1].predicate.gate
    assert gate is not None and gate.verdict == "error"


def test_a_gate_that_cannot_be_signed_fails_the_run_and_writes_nothing(world: World) -> None:
    (world.root / "keys" / "gate.pem").write_text("-----BEGIN PRIVATE KEY-----\ntruncated\n")
    before = world.state(UC)

    with pytest.raises(StagegateError, match=r"gate\.pem: not an unencrypted PEM private key"):
        run_flow(world)

    after = world.state(UC)
    assert (after.entries, after.stage) == (before.entries, Stage.EXPLORE)


SCENARIOS: dict[str, Callable[[World], None]] = {
    "pass": lambda world: None,
    "blocked": remove_deliverable,
    "error": break_deliverable,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_library_and_flow_record_the_same_gate(world: World, tmp_path: Path, scenario: str) -> None:
    SCENARIOS[scenario](world)
    library_root = tmp_path / "library-copy"
    shutil.copytree(world.root, library_root, symlinks=True)

    outcome = promote(Session.open(library_root), UC, Stage.POC, now=GATE_TIME)
    result = run_flow(world)

    assert outcome.evaluation is not None
    assert result["verdict"] == outcome.evaluation.verdict.value == scenario
    # Both entries sign the same content; only the workspace folder differs, and the
    # flow's entry names its flow run (the library's, evaluated in-process, has none).
    flow_entry = world.state(UC).history[-1]
    assert outcome.entry.predicate.gate is not None and flow_entry.predicate.gate is not None
    assert outcome.entry.predicate.gate.flow_run is None
    assert flow_entry.predicate.gate.flow_run is not None
    by_library = json.dumps(outcome.entry.predicate.model_dump(mode="json"), sort_keys=True)
    flow_predicate = flow_entry.predicate.model_dump(mode="json")
    flow_predicate["gate"]["flow_run"] = None
    by_flow = json.dumps(flow_predicate, sort_keys=True)
    by_library = by_library.replace(str(library_root.resolve()), "<workspace>")
    by_flow = by_flow.replace(str(world.root.resolve()), "<workspace>")
    assert by_flow == by_library


class ParsesTrackerExport:
    """Stands in for a check that parses a tracker export that is corrupt."""

    def __init__(self, export: Path) -> None:
        self.export = export
        self.attempts = 0

    def run(self, ctx: object) -> list[CheckResult]:
        self.attempts += 1
        issues = json.loads(self.export.read_text())
        return [CheckResult("blockers", "blockers", Status.PASS, f"{len(issues)} issues")]


def run_flow_with(world: World, checks: CheckRegistry) -> Any:
    """The gate flow's own body (``run_gate_flow``) with other checks, in a flow run."""

    @flow(name="stagegate-gate-with-checks", persist_result=False)
    async def gate_with_checks() -> dict[str, Any]:
        return await run_gate_flow(UC, "poc", str(world.root), GATE_TIME.isoformat(), checks=checks)

    return asyncio.run(gate_with_checks())


def test_a_check_that_raises_is_the_same_error_in_library_and_flow(
    world: World, tmp_path: Path
) -> None:
    export = tmp_path / "issues.json"
    export.write_text('[{"id": 1, "kind": "blocker", "status": "open"')  # truncated
    crashing = ParsesTrackerExport(export)
    applies = DEFAULT_CHECKS["deliverables"].applies
    checks = {**DEFAULT_CHECKS, "deliverables": Check("deliverables", crashing.run, applies)}
    library_root = tmp_path / "library-copy"
    shutil.copytree(world.root, library_root)

    outcome = promote(Session.open(library_root), UC, Stage.POC, now=GATE_TIME, checks=checks)
    result = run_flow_with(world, checks)

    assert result["verdict"] == outcome.evaluation.verdict.value == "error"
    assert crashing.attempts == 2  # once per path: a crash on bad data is not retried
    by_library = next(r for r in outcome.evaluation.results if r.kind == "deliverables")
    assert by_library.reason.startswith("check crashed: JSONDecodeError:")
    assert result["failing"] == [
        {"check": "deliverables", "status": "error", "reason": by_library.reason}
    ]
    assert world.state(UC).stage is Stage.EXPLORE


# -- retries: transient I/O only --------------------------------------------------------


class TcpEvidence:
    """A check kind whose evidence sits behind a real TCP port.

    The port refuses connections until ``refusals`` attempts have failed (None: always),
    as a source that is briefly down and then back.
    """

    def __init__(self, refusals: int | None, *, wrap: bool = False) -> None:
        # Bound from the start, so no other process can take the port, but not listening:
        # connections are refused until the source comes back.
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.refusals = refusals
        self.wrap = wrap
        self.attempts = 0
        self.listening = False

    def run(self, ctx: object) -> list[CheckResult]:
        self.attempts += 1
        if self.refusals is not None and self.attempts > self.refusals and not self.listening:
            self.listener.listen()
            self.listening = True
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                pass
        except OSError as e:
            if self.wrap:
                raise EvidenceError(f"evidence source 127.0.0.1:{self.port} unreachable") from e
            raise
        return [CheckResult("tcp-source", "tcp_evidence", Status.PASS, "source answered")]

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def tcp_evidence() -> Iterator[Callable[..., TcpEvidence]]:
    """TCP evidence sources for one test, their listeners closed at its end."""
    made: list[TcpEvidence] = []

    def make(refusals: int | None, *, wrap: bool = False) -> TcpEvidence:
        made.append(TcpEvidence(refusals, wrap=wrap))
        return made[-1]

    yield make
    for source in made:
        source.close()


def explore_plan(world: World, *checks: Check) -> GatePlan:
    """The Explore gate's plan, running exactly ``checks``."""
    session = world.new_session()
    state = session.ledger.state(UC)
    return plan_gate(
        session.workspace, state, UC, Stage.POC, GATE_TIME, checks=registry_of(*checks)
    )


def run_checks(plan: GatePlan) -> list[CheckResult]:
    @flow(name="stagegate-checks-only", persist_result=False)
    async def checks_only() -> list[CheckResult]:
        return await run_check_tasks(plan)

    return asyncio.run(checks_only())


def test_a_briefly_unreachable_source_is_retried_until_it_answers(
    world: World, tcp_evidence: Callable[..., TcpEvidence]
) -> None:
    source = tcp_evidence(refusals=1)

    results = run_checks(explore_plan(world, Check("tcp_evidence", source.run)))

    assert [(r.check, r.status) for r in results] == [("tcp-source", Status.PASS)]
    assert source.attempts == 2


def test_a_source_that_stays_down_is_an_error_after_the_retries_never_a_pass(
    world: World, tcp_evidence: Callable[..., TcpEvidence]
) -> None:
    source = tcp_evidence(refusals=None, wrap=True)

    results = run_checks(
        explore_plan(world, Check("tcp_evidence", source.run), DEFAULT_CHECKS["sponsors"])
    )

    assert source.attempts == IO_RETRIES + 1
    down = results[0]
    assert (down.check, down.kind, down.status) == ("tcp_evidence", "tcp_evidence", Status.ERROR)
    assert down.reason.startswith(f"evidence source 127.0.0.1:{source.port} unreachable")
    assert down.reason.endswith(f"(still failing after {IO_RETRIES + 1} attempts)")
    # The other checks of the gate still ran and kept their kind order.
    assert [r.check for r in results[1:]] == ["sponsors", "budget:poc"]


def test_a_check_that_crashes_on_bad_evidence_is_not_retried(world: World, tmp_path: Path) -> None:
    class ReadsAMissingFile:
        attempts = 0

        def run(self, ctx: object) -> list[CheckResult]:
            self.attempts += 1
            (tmp_path / "export.csv").read_bytes()
            return [CheckResult("export", "file_evidence", Status.PASS, "read")]

    source = ReadsAMissingFile()

    results = run_checks(explore_plan(world, Check("file_evidence", source.run)))

    assert source.attempts == 1
    assert [(r.check, r.status) for r in results] == [("file_evidence", Status.ERROR)]
    assert results[0].reason.startswith("check crashed: FileNotFoundError:")


def test_a_failed_check_is_recorded_as_is_and_not_rerun(world: World) -> None:
    class FailsOnce:
        attempts = 0

        def run(self, ctx: object) -> list[CheckResult]:
            self.attempts += 1
            status = Status.FAIL if self.attempts == 1 else Status.PASS
            return [CheckResult("flaky-bar", "flaky", status, f"attempt {self.attempts}")]

    source = FailsOnce()

    results = run_checks(explore_plan(world, Check("flaky", source.run)))

    assert [(r.status, r.reason) for r in results] == [(Status.FAIL, "attempt 1")]
    assert source.attempts == 1


# -- the model alias ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real SQLite MLflow store for the module (its migrations take seconds)."""
    return sqlite_tracking_store(tmp_path_factory.mktemp("mlflow"))


def test_a_pass_moves_the_model_alias_to_the_gated_version(
    tmp_path: Path, tracking_uri: str
) -> None:
    from mlflow.tracking import MlflowClient

    world, model, version = model_gate_world(tmp_path / "ws", tracking_uri, alias="poc")

    result = run_flow(world)

    assert result["verdict"] == "pass", result["failing"]
    assert result["alias"] == f"models:/{model}@poc -> {version}"
    moved = MlflowClient(tracking_uri=tracking_uri).get_model_version_by_alias(model, "poc")
    assert str(moved.version) == version
    gate = world.state(UC).history[-1].predicate.gate
    assert gate is not None and gate.model is not None
    assert (gate.model.name, gate.model.version) == (model, version)
    assert f"models:/{model}@poc -> {version}" in str(
        read_artifact(artifact_key(UC, Stage.EXPLORE, Stage.POC)).data
    )


def test_an_alias_that_cannot_move_fails_the_run_but_the_recorded_pass_stands(
    tmp_path: Path, tracking_uri: str
) -> None:
    # MLflow reserves the alias "latest": the registry refuses it, a non-transient error.
    world, _, _ = model_gate_world(tmp_path / "ws", tracking_uri, alias="latest")

    with pytest.raises(EvidenceError, match=r"recorded as .* but the model alias was not moved"):
        run_flow(world)

    state = world.state(UC)
    assert state.stage is Stage.POC
    assert state.history[-1].predicate.gate is not None
    assert state.history[-1].predicate.gate.verdict == "pass"
    markdown = str(read_artifact(artifact_key(UC, Stage.EXPLORE, Stage.POC)).data)
    assert "**PASS**" in markdown and "**Alias NOT moved**" in markdown
    assert "'latest' alias name (case insensitive) is reserved" in markdown


def test_an_alias_that_cannot_move_is_the_same_error_in_library_and_flow(
    tmp_path: Path, tracking_uri: str
) -> None:
    world, _, _ = model_gate_world(tmp_path / "ws", tracking_uri, alias="latest")
    library_root = tmp_path / "library-copy"
    shutil.copytree(world.root, library_root)

    with pytest.raises(EvidenceError) as by_library:
        promote(Session.open(library_root), UC, Stage.POC, now=GATE_TIME)
    with pytest.raises(EvidenceError) as by_flow:
        run_flow(world)

    assert by_library.value.diagnostics() == by_flow.value.diagnostics()
    assert "the gate passed and is recorded as" in by_library.value.message
    assert Session.open(library_root).ledger.state(UC).stage is Stage.POC


def test_a_recorded_pass_whose_alias_never_moved_is_finished_by_the_flow_not_gated_again(
    tmp_path: Path, tracking_uri: str
) -> None:
    from mlflow.tracking import MlflowClient

    world, model, version = model_gate_world(tmp_path / "ws", tracking_uri, alias="poc")
    session = world.new_session()
    state = session.ledger.state(UC)
    # The passing entry landed, but the run that wrote it never reached its follow-ups.
    evaluation = evaluate_gate(session.workspace, state, UC, Stage.POC, GATE_TIME)
    recorded = record_gate(session, state, evaluation)
    assert recorded.predicate.stage.after == "poc"

    final = run_flow(world, return_state=True)
    result = final.result()

    assert final.is_completed()
    assert result["resumed"] is True and result["verdict"] == "pass"
    assert (result["sequence"], result["entry_key"]) == (recorded.sequence, recorded.key)
    assert result["alias"] == f"models:/{model}@poc -> {version}"
    moved = MlflowClient(tracking_uri=tracking_uri).get_model_version_by_alias(model, "poc")
    assert str(moved.version) == version
    assert world.state(UC).entries == state.entries + 1  # only the recorded entry
    # Nothing was evaluated: the run's only task is the follow-up.
    run_id = final.state_details.flow_run_id
    names = task_run_names(run_id, expected=1)
    assert len(names) == 1 and names[0].startswith("finish-promotion"), names
    markdown = str(read_artifact(artifact_key(UC, Stage.EXPLORE, Stage.POC), run_id).data)
    assert "already recorded" in markdown and recorded.key in markdown


def test_the_gate_entry_records_the_flow_run_that_signed_it(world: World) -> None:
    final = run_flow(world, return_state=True)

    gate = world.state(UC).history[-1].predicate.gate
    assert gate is not None
    assert gate.flow_run == str(final.state_details.flow_run_id)


@pytest.mark.usefixtures("host_in_new_york")
def test_the_flow_reads_a_time_without_a_zone_as_utc_as_the_cli_does(world: World) -> None:
    naive = GATE_TIME.replace(tzinfo=None).isoformat()
    assert "+" not in naive and not naive.endswith("Z")

    result = run_flow(world, now=naive)

    entry = world.state(UC).history[-1]
    assert result["verdict"] == "pass", result["failing"]
    assert entry.predicate.time == GATE_TIME


def test_gate_flow_is_registered_under_its_stable_name() -> None:
    assert gate_flow.name == "stagegate-gate"
    assert gate_flow.log_prints is False
