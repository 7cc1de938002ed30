"""The demo's PoC → Pilot gate in a warm process: library call vs the Prefect flow.

Both paths evaluate every check and sign a (blocked) gate entry, so they do the same
work. Targets: library ≤ 1 s; Prefect ≤ 1.5× the library call.

The flow is run as ``stagegate promote`` runs it (``flows.gate_flow.run_gate``, under one
synchronous API client for the whole run) and timed against three SQLite-backed Prefect
servers, back to back (the next run starts as soon as the previous one returns, as in the
demo and in CI loops) and with a pause between runs:

- the test harness, which inherits this process's environment, so it runs with the
  task-run recorder settings ``flows.gate_flow`` defaults (batched writes);
- a real ``prefect server start`` on loopback (temporary ``PREFECT_HOME`` and database)
  with Prefect's own defaults, where the recorder writes each task-run event in its own
  transaction;
- the same with the recorder settings flows/README.md recommends for SQLite servers.

"503 retries" counts the client's retries of a request the server refused as busy; each
costs Prefect's fixed first back-off of ~2 s (flows/README.md, "Back-to-back runs").

Prefect's own floor is measured on each server in the same run: an empty flow shaped like
the gate flow (async, one do-nothing task per check submitted at once, then one more for
the record, the tasks under one API client) called as Prefect's documentation calls a
flow (``asyncio.run(flow())``), and nothing else. The gate flow's overhead (flow minus
library call) is then compared with that floor. Target: overhead ≤ 1.2× the floor.

On the harness the same empty flow is also timed given the gate flow's parameters and
run-name template (``gate-{usecase}-to-{to}``): Prefect names a run after creating it,
and for a template builds a second run context whose result store asks the server for
its default storage through a new API client (flows/README.md). That row shows how much
of the overhead is the name; the target is still judged against the unnamed floor.

stagegate runs the gate flow under one synchronous API client for the whole run
(``flows.gate_flow.run_gate``), which Prefect then uses wherever it would otherwise
build a new one. Called the same way, Prefect's floor is lower too: each server also
times the empty flow so called, and the overhead is printed against it as well.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: The `prefect server start` rows: with Prefect's defaults, and with flows/README.md's.
PREFECT_DEFAULTS, RECORDER_BATCHED = "Prefect defaults", "recorder batched (README)"
#: A cold `prefect server start` took 12-16 s here (database migrations, services), and
#: over 45 s while other work kept both cores busy.
SERVER_STARTUP_TIMEOUT_S = 120
#: The test harness's server, started next to a busy machine's other work (Prefect's
#: own default of 30 s is not always enough there).
HARNESS_STARTUP_TIMEOUT_S = 180


@dataclass(frozen=True)
class Size:
    rounds: int  # timed runs of each row; the median is reported
    pause_s: float  # the pause before each run of the paused row
    servers: tuple[str, ...]  # the `prefect server start` rows to run
    #: Whether a server that does not answer in time fails the bench; otherwise its row
    #: says "skipped" (a machine too busy to start it is no fault of the code).
    server_must_start: bool


FULL = Size(
    rounds=7, pause_s=2.0, servers=(PREFECT_DEFAULTS, RECORDER_BATCHED), server_must_start=False
)
SMOKE = Size(rounds=1, pause_s=0.5, servers=(RECORDER_BATCHED,), server_must_start=True)


def setup(root: Path):  # type: ignore[no-untyped-def]
    """The demo workspace with support-bot in PoC, its first model under the bar."""
    from gates.demo import workspace as demo_ws
    from gates.demo.mlflow_runs import log_run
    from gates.demo.scenario import SELECTIONS
    from gates.engine.actions import approve, promote
    from gates.explore.matrix import priority_matrix_svg
    from gates.explore.selection import select, workspace_ranking
    from gates.signing.signers import load_signer
    from gates.stages import Stage
    from gates.workspace.session import Session

    start = datetime.now(UTC) - timedelta(days=30)
    demo_ws.build(root, start)
    session = Session.open(root)
    dana, lee = (load_signer(f"file:keys/{n}.pem", root) for n in ("dana", "lee"))
    # As the demo does: Explore selects and registers, and draws the priority matrix the
    # Explore gate requires as a deliverable.
    ranking = workspace_ranking(session)
    select(session, ["support-bot"], rationale=SELECTIONS["support-bot"], now=start)
    matrix = root / "docs" / "explore" / "priority-matrix.svg"
    matrix.write_text(priority_matrix_svg(ranking, selected=SELECTIONS, standalone=True))
    approve(
        session,
        "support-bot",
        dana,
        role="sponsor",
        now=start + timedelta(days=9),
    )
    approve(
        session,
        "support-bot",
        lee,
        role="budget_owner",
        now=start + timedelta(days=9),
    )
    assert promote(session, "support-bot", Stage.POC, now=start + timedelta(days=10)).promoted
    log_run(
        session.workspace.tracking_uri,
        root / "mlartifacts",
        "support-bot-poc",
        {"accuracy": 0.81, "latency_p95_ms": 1450},
        start + timedelta(days=20),
        register_as="support-bot",
    )
    approve(
        session,
        "support-bot",
        dana,
        role="sponsor",
        now=start + timedelta(days=21),
    )
    return session


@dataclass
class Row:
    label: str
    samples: list[float] = field(default_factory=list)
    retries: int | None = None
    skipped: str | None = None
    #: The empty flow's row measured on the same server, for flow rows.
    floor: Row | None = None
    #: The empty flow given the gate flow's parameters and run name, on the harness.
    named_floor: Row | None = None
    #: The empty flow under one API client, as ``run_gate`` runs the gate flow.
    client_floor: Row | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


class _RetryCounter(logging.Handler):
    """Counts the Prefect client's "retryable status code 503" retries (a DEBUG record)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retryable status code 503" in record.getMessage():
            self.count += 1


@contextmanager
def counting_503_retries() -> Iterator[_RetryCounter]:
    client_logger = logging.getLogger("prefect.client")
    counter = _RetryCounter()
    level, propagate = client_logger.level, client_logger.propagate
    client_logger.addHandler(counter)
    # DEBUG so the retry record is made; not propagated, so the console stays quiet.
    client_logger.setLevel(logging.DEBUG)
    client_logger.propagate = False
    try:
        yield counter
    finally:
        client_logger.removeHandler(counter)
        client_logger.setLevel(level)
        client_logger.propagate = propagate


def timed(label: str, fn: Callable[[], object], rounds: int, *, pause: float = 0.0) -> Row:
    row = Row(label)
    with counting_503_retries() as retries:
        for _ in range(rounds):
            if pause:
                time.sleep(pause)
            start = time.perf_counter()
            fn()
            row.samples.append(time.perf_counter() - start)
    row.retries = retries.count
    return row


def drain_prefect_workers(timeout: float = 30) -> None:
    """Deliver this process's queued logs and events, then stop their workers.

    Prefect keeps one events worker per client type, bound to the API URL it started
    with, so it must be drained before the next server, as the test harness does on exit.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_prefect_server(home: Path, settings: dict[str, str]) -> Iterator[str | None]:
    """`prefect server start` on loopback with its own home and SQLite database.

    Prefect's defaults plus ``settings``: every PREFECT_* variable of this process is
    left out, and it runs in ``home`` so no prefect.toml applies. Yields the API URL, or
    None if it did not answer within SERVER_STARTUP_TIMEOUT_S. Stopped (its whole
    process group) on exit.
    """
    home.mkdir(parents=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        **settings,
    }
    args = [sys.executable, "-m", "prefect", "server", "start"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    with (home / "server.log").open("w") as log:
        server = subprocess.Popen(
            args, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + SERVER_STARTUP_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    api = ""
                    break
                time.sleep(0.25)
        yield api or None
    finally:
        # The group this Popen created: the CLI and the uvicorn/services it spawns.
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        except ProcessLookupError:
            pass


def empty_flow(checks: int, named: bool = False):  # type: ignore[no-untyped-def]
    """An async flow shaped like ``gate_flow`` that does nothing: Prefect's own floor.

    ``checks`` do-nothing tasks submitted at once and gathered, then one more (the
    record), all under one API client and with the gate tasks' settings. ``named``: with
    ``gate_flow``'s parameters and run-name template as well.
    """
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.context import SyncClientContext
    from prefect.futures import wait

    @task(name="nothing", cache_policy=NO_CACHE, persist_result=False)
    def nothing(i: int) -> int:
        return i

    async def tasks() -> int:
        with SyncClientContext.get_or_create():
            futures = [nothing.submit(i) for i in range(checks)]
            await asyncio.to_thread(wait, futures)
            last = nothing.submit(checks)
            await asyncio.to_thread(wait, [last])
            return sum(f.result() for f in futures) + last.result()

    if not named:

        @flow(name="bench-empty-gate-shape", log_prints=False, persist_result=False)
        async def empty() -> int:
            return await tasks()

        return empty

    @flow(
        name="bench-empty-gate-shape-named",
        flow_run_name="gate-{usecase}-to-{to}",
        log_prints=False,
        persist_result=False,
    )
    async def empty_named(
        usecase: str,
        to: str,
        workspace: str | None = None,
        now: str | None = None,
        approval_timeout: float | None = None,
    ) -> int:
        return await tasks()

    return empty_named


def main(size: Size = FULL) -> None:
    from flows.gate_flow import RECORDER_BATCHING, RECORDER_DEFAULTS_APPLIED, run_gate
    from gates.engine.actions import promote
    from gates.stages import Stage

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        session = setup(Path(tmp) / "ws")

        def library() -> str:
            return promote(session, "support-bot", Stage.PILOT).evaluation.verdict.value

        checks = len(promote(session, "support-bot", Stage.PILOT).evaluation.plan.checks)
        floor_flow = empty_flow(checks)

        def floor() -> int:
            return int(asyncio.run(floor_flow()))

        def client_floor() -> int:
            from prefect.context import SyncClientContext

            with SyncClientContext.get_or_create():
                return int(asyncio.run(floor_flow()))

        named_flow = empty_flow(checks, named=True)

        def named_floor() -> int:
            root = str(session.workspace.root)
            return int(asyncio.run(named_flow(usecase="support-bot", to="pilot", workspace=root)))

        def one_client_row(where: str) -> Row:
            """The empty flow under one API client, as ``run_gate`` runs the gate flow."""
            label = f"empty flow, {checks + 1} tasks, under one client as run_gate: {where}"
            return timed(label, client_floor, size.rounds)

        def through_prefect() -> str:
            result = run_gate(
                usecase="support-bot", to="pilot", workspace=str(session.workspace.root)
            )
            return str(result["verdict"])

        from prefect.settings import PREFECT_API_URL, temporary_settings
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=HARNESS_STARTUP_TIMEOUT_S):
            for fn in (library, through_prefect):  # warm both paths (imports, GX, MLflow)
                assert fn() == "blocked"
            assert floor() == checks * (checks + 1) // 2
            rows.append(timed("library call (evaluate + sign + write)", library, size.rounds))
            harness = "test harness, recorder as flows.gate_flow defaults it"
            if not RECORDER_DEFAULTS_APPLIED:
                harness = "test harness, recorder as configured here"
            harness_floor = timed(
                f"empty flow, {checks + 1} tasks, back to back: {harness}", floor, size.rounds
            )
            rows.append(harness_floor)
            assert named_floor() == checks * (checks + 1) // 2
            named = timed(
                f"empty flow, {checks + 1} tasks, the gate's parameters and run name: {harness}",
                named_floor,
                size.rounds,
            )
            rows.append(named)
            one_client = one_client_row(harness)
            rows.append(one_client)
            rows.append(timed(f"flow, back to back: {harness}", through_prefect, size.rounds))
            rows[-1].floor = harness_floor
            rows[-1].named_floor = named
            rows[-1].client_floor = one_client
            paused = f"flow, {size.pause_s:g} s pause: {harness}"
            rows.append(timed(paused, through_prefect, size.rounds, pause=size.pause_s))

        server_settings = {PREFECT_DEFAULTS: {}, RECORDER_BATCHED: RECORDER_BATCHING}
        for name in size.servers:
            label = f"flow, back to back: `prefect server start`, {name}"
            home = Path(tmp) / f"server-{len(rows)}"
            with local_prefect_server(home, server_settings[name]) as api:
                if api is None and size.server_must_start:
                    log = (home / "server.log").read_text()[-2000:]
                    raise RuntimeError(
                        f"{label}: not up in {SERVER_STARTUP_TIMEOUT_S} s; its log ends:\n{log}"
                    )
                if api is None:
                    rows.append(
                        Row(label, skipped=f"server not up in {SERVER_STARTUP_TIMEOUT_S} s")
                    )
                    continue
                with temporary_settings({PREFECT_API_URL: api}):
                    assert through_prefect() == "blocked"  # registers the flow on this server
                    assert floor() == checks * (checks + 1) // 2
                    server_floor = timed(
                        f"empty flow, {checks + 1} tasks: `prefect server start`, {name}",
                        floor,
                        size.rounds,
                    )
                    rows.append(server_floor)
                    one_client = one_client_row(f"`prefect server start`, {name}")
                    rows.append(one_client)
                    rows.append(timed(label, through_prefect, size.rounds))
                    rows[-1].floor = server_floor
                    rows[-1].client_floor = one_client
                    drain_prefect_workers()

    lib_s = rows[0].median
    width = max(len(r.label) for r in rows)
    for row in rows:
        if row.skipped:
            print(f"{row.label:<{width}}  skipped: {row.skipped}")
            continue
        line = f"{row.label:<{width}}  {row.median * 1000:6.0f} ms median of {len(row.samples)}"
        if row is rows[0]:
            line += "  (target ≤ 1000 ms)"
        elif any(row in (other.floor, other.named_floor, other.client_floor) for other in rows):
            runs = " ".join(f"{s * 1000:.0f}" for s in row.samples)
            line += f"  (Prefect's floor)  503 retries: {row.retries}  runs: {runs}"
        else:
            runs = " ".join(f"{s * 1000:.0f}" for s in row.samples)
            line += f"  ({row.median / lib_s:5.2f}× library; target ≤ 1.5×)"
            line += f"  503 retries: {row.retries}  runs: {runs}"
        print(line)
    print("\nthe gate flow's overhead over the library call vs Prefect's floor on the same server:")
    for row in rows:
        if row.floor is None or row.skipped:
            continue
        overhead = row.median - lib_s
        print(
            f"  {row.label}: overhead {overhead * 1000:.0f} ms, empty flow "
            f"{row.floor.median * 1000:.0f} ms = {overhead / row.floor.median:.2f}x the floor "
            "(target <= 1.2x)"
        )
        if row.named_floor is not None:
            named_s = row.named_floor.median
            print(
                f"    against the empty flow with the gate's parameters and run name "
                f"({named_s * 1000:.0f} ms): {overhead / named_s:.2f}x"
            )
        if row.client_floor is not None:
            client_s = row.client_floor.median
            print(
                f"    against the empty flow under one client, as run_gate runs the gate "
                f"flow ({client_s * 1000:.0f} ms): {overhead / client_s:.2f}x"
            )
