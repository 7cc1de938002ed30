"""A promotion flow waits for approvals that are not in the ledger yet, then decides."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.support.presets import UC, approve_gate_exit, gate_spec, gate_world, run_flow

FAST_POLL = "\n[promotion]\napproval_poll_seconds = 0.2\n"


def test_flow_waits_for_signed_approvals_and_then_passes(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False, settings_extra=FAST_POLL)
    signer = threading.Timer(1.5, approve_gate_exit, args=(world,))
    started = time.monotonic()
    signer.start()
    try:
        result = run_flow(world, approval_timeout=60)
    finally:
        signer.join()
    assert result["verdict"] == "pass", result["failing"]
    assert 1.4 < time.monotonic() - started < 60
    gate = world.state(UC).last_gate
    assert gate is not None and gate.predicate.gate is not None
    assert len(gate.predicate.gate.approvals) == 2  # the two signed approval entries


def test_flow_gives_up_after_the_timeout_and_names_the_missing_roles(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False, settings_extra=FAST_POLL)
    started = time.monotonic()
    result = run_flow(world, approval_timeout=1)
    assert time.monotonic() - started >= 1
    assert result["verdict"] == "blocked"
    failing = {f["check"]: f["reason"] for f in result["failing"]}
    assert failing == {
        "approval:budget_owner": "missing 1 budget_owner approval(s)",
        "approval:sponsor": "missing 1 sponsor approval(s)",
    }


def test_without_a_timeout_the_flow_does_not_wait(tmp_path: Path) -> None:
    world = gate_world(tmp_path / "ws", gate_spec(), approvals=False)
    started = time.monotonic()
    result = run_flow(world)
    assert result["verdict"] == "blocked"
    assert time.monotonic() - started < 30
