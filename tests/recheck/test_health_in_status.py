"""`stagegate status` says what the newest signed re-check found, not only the last gate.

A use case whose gate passed and whose nightly re-check since then warns was reported
as "last gate passed" everywhere; its health is now the re-check's verdict, time and
the checks that did not pass.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from gates.engine.status import usecase_status
from gates.stages import Stage
from tests.support.cli import STAGEGATE
from tests.support.presets import add_monitored
from tests.support.world import World


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEGATE_WORKSPACE"}
    env["COLUMNS"] = "200"  # a wide terminal: the table's cells are not folded mid-word
    return subprocess.run(
        [*STAGEGATE, "--workspace", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_status_json_reports_a_warning_recheck_after_a_passed_gate(world: World) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.POC)
    recheck = world.recheck("bot", entered + 30)
    assert recheck.verdict == "warn"
    at = world.at(entered + 31).isoformat()

    result = run(world.root, "status", "bot", "--json", "--at", at)

    assert result.returncode == 0, result.stderr
    (bot,) = json.loads(result.stdout)
    assert (bot["lastGate"], bot["lastVerdict"]) == ("explore->poc", "pass")  # kept as it was
    assert bot["lastRecheckVerdict"] == "warn"
    assert bot["lastRecheckAt"] == world.at(entered + 30).isoformat()
    assert bot["lastRecheckEntry"] == recheck.sequence
    findings = bot["lastRecheckFindings"]
    assert [(f["check"], f["status"]) for f in findings] == [
        ("time-box", "warn"),
        ("evidence:freshness", "warn"),
    ]
    assert "planned" in findings[0]["reason"]


def test_status_table_shows_the_recheck_verdict_day_and_failing_checks(
    world: World,
) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.POC)
    outcome = world.recheck("bot", entered + 43)
    assert outcome.verdict == "fail"
    at = world.at(entered + 44).isoformat()

    result = run(world.root, "status", "--at", at)

    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "use case" in line)
    assert "health" in header and "last gate" in header
    row = next(line for line in result.stdout.splitlines() if "│ bot" in line)
    assert "fail" in row and world.at(entered + 43).date().isoformat() in row
    assert "time-box" in result.stdout


def test_a_new_stage_has_no_health_until_its_first_recheck(world: World) -> None:
    add_monitored(world, "bot")
    entered = world.advance("bot", Stage.POC)
    world.recheck("bot", entered + 3)
    state = world.session.ledger.state("bot")
    before = usecase_status(world.session.workspace, "bot", state, world.at(entered + 4))
    assert before.health is not None and before.health.verdict == "warn"
    assert [f.check for f in before.health.findings] == ["evidence:freshness"]

    world.promote_approved("bot", Stage.PILOT, entered + 5)
    state = world.session.ledger.state("bot")
    after = usecase_status(world.session.workspace, "bot", state, world.at(entered + 6))

    # The PoC re-check says nothing about the Pilot.
    assert after.stage == "pilot" and after.health is None
    assert after.to_json()["lastRecheckVerdict"] is None
    assert after.to_json()["lastRecheckFindings"] == []
