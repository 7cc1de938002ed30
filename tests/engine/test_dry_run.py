"""`promote --dry-run` and `next`: every check evaluated, nothing written, the missing
pieces listed with the commands that supply them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gates.engine.actions import approve, promote, register
from gates.engine.dry_run import dry_run_promotion
from gates.ledger.entry import entry_key
from gates.stages import Stage
from tests.support.cli import run
from tests.support.presets import ledger_world
from tests.support.webhook import Receiver
from tests.support.world import T0


def store_snapshot(root: Path) -> dict[str, str]:
    """Every file under the ledger folder, by its bytes' digest."""
    ledger = root / "ledger"
    return (
        {
            str(p.relative_to(ledger)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(ledger.rglob("*"))
            if p.is_file()
        }
        if ledger.exists()
        else {}
    )


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ledger_world(root)
    return root


def test_a_dry_run_writes_nothing_and_lists_the_approvals_with_their_commands(ws: Path) -> None:
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    before = store_snapshot(ws)
    result = run("--workspace", str(ws), "promote", "alpha", "--to", "poc", "--dry-run", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["dryRun"], report["written"], report["verdict"]) == (True, False, "blocked")
    failing = {c["check"] for c in report["checks"] if c["status"] in ("fail", "error")}
    assert failing == {"approval:sponsor", "approval:budget_owner"}
    commands = [s["command"] for s in report["steps"]]
    prefix = f"stagegate --workspace {ws}"
    assert commands == [
        f"{prefix} approve alpha --role budget_owner --key keys/budget.pem",
        f"{prefix} approve alpha --role sponsor --key keys/sponsor.pem",
    ]
    assert store_snapshot(ws) == before
    assert not (ws / "ledger" / entry_key("alpha", 1)).exists()


def test_the_suggested_commands_make_the_gate_pass(ws: Path) -> None:
    """The steps are the exact commands: running them turns the dry run green."""
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    report = json.loads(
        run("--workspace", str(ws), "promote", "alpha", "--to", "poc", "--dry-run", "--json").stdout
    )
    for step in report["steps"]:
        args = step["command"].split()[3:]  # after `stagegate --workspace DIR`
        assert run("--workspace", str(ws), *args).returncode == 0
    would = run("--workspace", str(ws), "promote", "alpha", "--to", "poc", "--dry-run")
    assert would.returncode == 0, would.stdout
    assert "DRY RUN" in would.stdout and "WOULD PASS" in would.stdout
    assert "nothing was written" in would.stdout
    promoted = run("--workspace", str(ws), "promote", "alpha", "--to", "poc", "--in-process")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr


def test_an_unregistered_use_case_is_judged_as_if_it_entered_explore_now(ws: Path) -> None:
    (ws / "docs" / "rationale.md").unlink()
    result = run("--workspace", str(ws), "next", "alpha", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["from"], report["to"], report["unregistered"]) == ("explore", "poc", True)
    steps = report["steps"]
    assert steps[0]["command"] == f"stagegate --workspace {ws} register alpha"
    assert any(
        "selection rationale" in s["what"] and "docs/rationale.md not found" in s["what"]
        for s in steps
    )
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert statuses["criteria-lock"] == "pass" and statuses["time-box"] == "pass"
    assert store_snapshot(ws) == {}


def test_missing_declarations_name_the_spec_field_to_fill(ws: Path) -> None:
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(
        spec.read_text()
        .replace("    priority_matrix: docs/matrix.md\n", "")
        .replace("budgets: {poc: 5000, ", "budgets: {")
    )
    result = run("--workspace", str(ws), "promote", "alpha", "--to", "poc", "--dry-run")
    assert result.returncode == 1
    said = " ".join(result.stdout.split())
    assert (
        "declare evidence.deliverables.priority_matrix (a file or folder) in usecases/alpha.yaml"
        in said
    )
    assert "set budgets.poc (monthly, in USD) in usecases/alpha.yaml" in said
    assert "(dry run: exit 1 = would be blocked)" in said


def test_a_dry_run_of_a_recorded_pass_says_so_and_exits_0(tmp_path: Path) -> None:
    world = ledger_world(tmp_path / "ws")
    register(world.session, "alpha", now=world.at(0))
    world.approve_exit("alpha", 1)
    passed = promote(world.session, "alpha", Stage.POC, now=world.at(2))
    assert passed.promoted
    dry = dry_run_promotion(world.session, "alpha", Stage.POC, now=world.at(3))
    assert dry.recorded is not None and dry.recorded.sequence == passed.entry.sequence
    assert dry.evaluation is None and dry.verdict.value == "pass"


def test_a_dry_run_refuses_illegal_moves_as_promote_does(ws: Path) -> None:
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    result = run("--workspace", str(ws), "promote", "alpha", "--to", "pilot", "--dry-run")
    assert result.returncode == 2
    assert "one at a time" in result.stderr


def test_a_dry_run_of_a_blocked_gate_posts_no_alert(
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    world = ledger_world(tmp_path / "ws")
    settings = world.root / "stagegate.toml"
    settings.write_text(settings.read_text() + f'[alerts]\nwebhook_url = "{receiver.url}"\n')
    session = world.reopen()
    register(session, "alpha", now=T0)
    approve(session, "alpha", world.sponsor, role="sponsor", now=world.at(1))
    dry = dry_run_promotion(session, "alpha", Stage.POC, now=world.at(2))
    assert dry.verdict.value == "blocked"
    assert receiver.requests == []
    assert session.ledger.state("alpha").next_sequence == 2
    # The same gate, run for real, is recorded and alerts: the dry run differs only there.
    blocked = promote(session, "alpha", Stage.POC, now=world.at(2))
    assert not blocked.promoted and len(receiver.requests) == 1
