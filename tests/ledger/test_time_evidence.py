"""Entry times against the store's own clock: S3 LastModified (real SeaweedFS) and the
folder store's file times. Lying writers sign entries themselves with a trusted key."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gates.clock import Clock
from gates.engine.actions import approve, register
from gates.ledger.chain import Ledger
from gates.ledger.entry import entry_key
from gates.ledger.time_evidence import SIMULATED_NOTE
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.signing.signers import Signer
from gates.stages import Stage
from tests.support.forge import forge_entry, sponsor_approval_record
from tests.support.world import World, other_notes

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def on_system_clock(world: World) -> World:
    """The test world, its workspace declaring the system clock (as production does)."""
    world.configure(clock="system")
    assert not world.session.clock.simulated
    return world


@pytest.fixture
def system_world(anywhere: World) -> World:
    """A system-clock workspace with its ledger in a folder or in a SeaweedFS bucket."""
    return on_system_clock(anywhere)


def craft(world: World, usecase: str, signer: Signer, **kwargs: Any) -> int:
    """Sign the next entry with a trusted key, claiming any time on the system clock, and
    store it: what a writer who patched their own copy of the tool could do."""
    return forge_entry(world.session, usecase, signer, clock="system", **kwargs)


def gate_record(world: World) -> dict[str, Any]:
    lock = world.session.ledger.state("alpha").lock
    assert lock is not None
    return {
        "gate": {
            "from": "explore",
            "to": "poc",
            "verdict": "blocked",
            "criteriaDigest": lock.digest,
            "checks": [],
        }
    }


def rules(report: VerificationReport) -> set[tuple[str, int | None, str]]:
    return {(v.usecase, v.sequence, v.rule) for v in report.violations}


def test_honest_system_clock_entries_verify_intact_against_the_store_clock(
    system_world: World,
) -> None:
    world = system_world
    register(world.session, "alpha")
    approve(world.session, "alpha", world.sponsor, role="sponsor")
    report = verify_ledger(world.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert not report.simulated_clock
    assert report.time_evidence["comparedWithStore"] == 2
    assert any(note.startswith("entry times were compared with the store's clock: ")
               for note in report.notes)  # fmt: skip


def test_an_approval_recorded_at_9999_is_time_ahead_of_store_naming_the_entry(
    system_world: World,
) -> None:
    world = system_world
    register(world.session, "alpha")
    seq = craft(world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE,
                time=FAR_FUTURE, records=sponsor_approval_record(world.session))  # fmt: skip
    report = verify_ledger(world.session.ledger)
    assert rules(report) == {("alpha", seq, "time-ahead-of-store")}
    message = next(v.message for v in report.violations)
    assert "9999-12-31T00:00:00Z" in message and "recorded from the future" in message


def test_a_back_dated_gate_is_time_behind_store_naming_the_entry(
    system_world: World,
) -> None:
    """The PoC began 100 days ago; the gate is written today claiming day 25."""
    world = system_world
    now = datetime.now(UTC)
    began = now - timedelta(days=100)
    craft(world, "alpha", world.session.signer, kind="registration", after=Stage.EXPLORE,
          time=began, records=registration_record(world))  # fmt: skip
    seq = craft(world, "alpha", world.session.signer, kind="gate", after=Stage.EXPLORE,
                time=began + timedelta(days=25), records=gate_record(world))  # fmt: skip
    report = verify_ledger(world.session.ledger)
    # S3 cannot be told the registration arrived 100 days ago: it is back-dated too.
    assert rules(report) == {
        ("alpha", 0, "time-behind-store"),
        ("alpha", seq, "time-behind-store"),
    }
    gate = next(v for v in report.violations if v.sequence == seq)
    assert "75 days before the store received it" in gate.message and "back-dated" in gate.message


def test_on_the_folder_store_only_the_back_dated_gate_is_flagged(world: World) -> None:
    """A registration whose file time says it arrived 100 days ago, and a gate written
    today that claims day 25 of the stage."""
    world = on_system_clock(world)
    began = datetime.now(UTC) - timedelta(days=100)
    craft(world, "alpha", world.session.signer, kind="registration", after=Stage.EXPLORE,
          time=began, records=registration_record(world))  # fmt: skip
    registered = world.root / "ledger" / entry_key("alpha", 0)
    os.utime(registered, (began.timestamp(), began.timestamp()))
    seq = craft(world, "alpha", world.session.signer, kind="gate", after=Stage.EXPLORE,
                time=began + timedelta(days=25), records=gate_record(world))  # fmt: skip
    assert rules(verify_ledger(world.session.ledger)) == {("alpha", seq, "time-behind-store")}


def test_the_folder_store_clock_is_only_as_good_as_its_file_times(world: World) -> None:
    """Documented weakness: whoever can write the folder can also set a file's time."""
    world = on_system_clock(world)
    register(world.session, "alpha")
    claimed = datetime.now(UTC) - timedelta(days=75)
    seq = craft(world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE,
                time=claimed + timedelta(days=80), records=sponsor_approval_record(world.session))  # fmt: skip
    assert rules(verify_ledger(world.session.ledger)) == {("alpha", seq, "time-ahead-of-store")}
    forged = claimed + timedelta(days=80)
    os.utime(world.root / "ledger" / entry_key("alpha", seq), (forged.timestamp(),) * 2)
    report = verify_ledger(world.session.ledger)
    assert report.intact
    assert any("anyone with write access to the folder can set them" in n for n in report.notes)


def test_simulated_entries_under_a_system_clock_verifier_are_clock_simulated(
    system_world: World,
) -> None:
    world = system_world
    simulated = Ledger(world.session.store, world.session.trust, Clock(simulated=True))
    register(world.session, "alpha")
    state = simulated.replay("alpha").state
    written = simulated.append(
        state, world.sponsor, kind="approval", after=Stage.EXPLORE, actor="Dana Park",
        time=datetime.now(UTC) + timedelta(days=30), records=sponsor_approval_record(world.session),
    )  # fmt: skip
    assert written.predicate.clock == "simulated"
    report = verify_ledger(world.session.ledger)
    assert rules(report) == {("alpha", 1, "clock-simulated")}
    assert report.simulated_clock
    assert report.notes[0].startswith(SIMULATED_NOTE)


def test_simulated_entries_in_a_simulated_workspace_are_allowed_and_said_so(
    world: World,
) -> None:
    world.register("alpha", 0)
    world.approve_exit("alpha", 3)
    report = verify_ledger(world.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.simulated_clock
    assert report.notes[0] == (
        f"{SIMULATED_NOTE} (3 entries were written on a clock the workspace declares simulated)"
    )
    shown = report.to_json()
    assert shown["simulatedClock"] is True
    assert shown["timeEvidence"]["simulatedEntries"] == 3  # type: ignore[index]


def test_a_system_clock_entry_in_a_simulated_workspace_is_still_held_to_the_store_clock(
    world: World,
) -> None:
    world.register("alpha", 0)
    seq = craft(world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE,
                time=FAR_FUTURE, records=sponsor_approval_record(world.session))  # fmt: skip
    assert rules(verify_ledger(world.session.ledger)) == {("alpha", seq, "time-ahead-of-store")}


def test_verify_cli_says_simulated_time_plainly_in_table_and_json(world: World) -> None:
    from typer.testing import CliRunner

    from gates.cli.app import app

    world.register("alpha", 0)
    runner = CliRunner()
    table = runner.invoke(app, ["--workspace", str(world.root), "audit", "verify"])
    assert table.exit_code == 0, table.output
    assert "intact (simulated time: timings are not evidence)" in " ".join(table.output.split())
    shown = runner.invoke(app, ["--workspace", str(world.root), "audit", "verify", "--json"])
    assert json.loads(shown.output)["simulatedClock"] is True


def test_a_system_clock_ledger_has_no_simulated_time_line(world: World) -> None:
    from typer.testing import CliRunner

    from gates.cli.app import app

    world = on_system_clock(world)
    register(world.session, "alpha")
    result = CliRunner().invoke(app, ["--workspace", str(world.root), "audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["simulatedClock"] is False and not other_notes_json(shown, "simulated")


def test_a_bundle_has_no_store_clock_and_says_so(world: World, tmp_path: Path) -> None:
    from gates.ledger.bundle import export_bundle, verify_bundle

    world = on_system_clock(world)
    register(world.session, "alpha")
    bundle, exported = export_bundle(world.session.ledger, "alpha")
    assert exported.intact and exported.time_evidence["comparedWithStore"] == 1
    report = verify_bundle(bundle, world.session.trust)
    assert report.intact, [str(v) for v in report.violations]
    assert report.time_evidence["storeClock"] is None
    assert any(n.startswith("a bundle carries no store clock") for n in report.notes)
    assert not report.simulated_clock and report.notes == tuple(other_notes(report))


def test_the_export_report_judges_entry_times_by_the_store_it_read(world: World) -> None:
    from gates.ledger.bundle import export_bundle

    world = on_system_clock(world)
    register(world.session, "alpha")
    seq = craft(world, "alpha", world.sponsor, kind="approval", after=Stage.EXPLORE,
                time=FAR_FUTURE, records=sponsor_approval_record(world.session))  # fmt: skip
    _, report = export_bundle(world.session.ledger, "alpha")
    assert rules(report) == {("alpha", seq, "time-ahead-of-store")}


def registration_record(world: World) -> dict[str, Any]:
    from gates.policy import criteria_digest

    criteria = world.session.workspace.criteria(
        world.session.workspace.usecase("alpha"), Stage.EXPLORE
    )
    return {
        "lock": {
            "stage": "explore",
            "digest": criteria_digest(criteria),
            "criteria": criteria.model_dump(mode="json"),
        }
    }


def other_notes_json(shown: dict[str, Any], word: str) -> list[str]:
    return [n for n in shown["notes"] if word in n]
