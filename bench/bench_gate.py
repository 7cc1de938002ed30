"""The demo's PoC → Pilot gate in a warm process: library call vs the Prefect flow.

Both paths evaluate every check and sign a (blocked) gate entry, so they do the same
work. Targets: library ≤ 1 s; Prefect ≤ 1.5× the library call.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROUNDS = 5


def setup(root: Path):  # type: ignore[no-untyped-def]
    from gates.demo import workspace as demo_ws
    from gates.demo.mlflow_runs import log_run
    from gates.engine.actions import approve, promote, register
    from gates.engine.session import Session
    from gates.signing.signers import load_signer
    from gates.stages import Stage

    start = datetime.now(UTC) - timedelta(days=30)
    demo_ws.build(root, start)
    session = Session.open(root)
    dana, lee = (load_signer(f"file:keys/{n}.pem", root) for n in ("dana", "lee"))
    register(session, "support-bot", now=start)
    approve(
        session,
        "support-bot",
        dana,
        role="sponsor",
        approver="Dana Park",
        now=start + timedelta(days=9),
    )
    approve(
        session,
        "support-bot",
        lee,
        role="budget_owner",
        approver="Lee Moreau",
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
        approver="Dana Park",
        now=start + timedelta(days=21),
    )
    return session


def main() -> None:
    from flows.gate_flow import gate_flow
    from gates.engine.actions import promote
    from gates.stages import Stage

    with tempfile.TemporaryDirectory() as tmp:
        session = setup(Path(tmp) / "ws")

        def library() -> str:
            return promote(session, "support-bot", Stage.PILOT).evaluation.verdict.value

        def through_prefect() -> str:
            flow_run = gate_flow(
                usecase="support-bot", to="pilot", workspace=str(session.workspace.root)
            )
            return str(asyncio.run(flow_run)["verdict"])

        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness():
            for fn in (
                library,
                through_prefect,
            ):  # warm both paths (imports, GX context, MLflow client)
                assert fn() == "blocked"
            lib, flow = [], []
            for _ in range(ROUNDS):
                for fn, samples in ((library, lib), (through_prefect, flow)):
                    start = time.perf_counter()
                    fn()
                    samples.append(time.perf_counter() - start)
    lib_s, flow_s = statistics.median(lib), statistics.median(flow)
    print(
        f"library call (evaluate + sign + write)  {lib_s * 1000:7.0f} ms median of {ROUNDS}  (target ≤ 1000 ms)"
    )
    print(
        f"through the Prefect flow                {flow_s * 1000:7.0f} ms median of {ROUNDS}  "
        f"({flow_s / lib_s:.2f}× library; target ≤ 1.5×)"
    )
