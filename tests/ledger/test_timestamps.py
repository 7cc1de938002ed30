"""RFC 3161 timestamp tokens beside every entry, from a real OpenSSL TSA on loopback,
checked offline by `audit verify` and in bundles."""

from __future__ import annotations

import base64
import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gates.cli.app import app
from gates.engine.actions import approve, register
from gates.errors import ConfigError
from gates.ledger.bundle import export_bundle, verify_bundle, write_bundle
from gates.ledger.entry import entry_key
from gates.ledger.timestamps import parse_token_key, token_key
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.stages import Stage
from gates.tsa.chain import TsaChain
from gates.tsa.token import check_token
from gates.workspace.auditor import time_from_settings
from tests.support.cli import run
from tests.support.forge import forge_entry, sponsor_approval_record
from tests.support.world import World
from tests.tsa_authority import LoopbackTsa


def with_tsa(world: World, tsa: LoopbackTsa, *, url: bool = True) -> World:
    """The world's workspace timestamping every entry at ``tsa`` (chain copied inside it)."""
    shutil.copy(tsa.chain, world.root / "tsa-chain.pem")
    section = "[timestamp]\n" + (f'tsa_url = "{tsa.url}"\n' if url else "")
    world.append_settings(section + 'tsa_certificate = "tsa-chain.pem"\n')
    return world


@pytest.fixture
def stamped(world: World, tsa: LoopbackTsa) -> World:
    """A system-clock workspace whose writers timestamp every entry at the loopback TSA."""
    world.configure(clock="system")
    return with_tsa(world, tsa)


def rules(report: VerificationReport) -> set[tuple[str, int | None, str]]:
    return {(v.usecase, v.sequence, v.rule) for v in report.violations}


def history(world: World) -> None:
    register(world.session, "alpha")
    approve(world.session, "alpha", world.sponsor, role="sponsor")


def stored_token(world: World, usecase: str, seq: int) -> Path:
    raw = world.session.store.get(entry_key(usecase, seq))
    return world.root / "ledger" / token_key(usecase, seq, raw)


def test_every_entry_written_gets_a_token_beside_it_that_verifies(
    stamped: World, tsa: LoopbackTsa
) -> None:
    before = tsa.requests
    history(stamped)
    assert tsa.requests - before == 2
    assert (
        stored_token(stamped, "alpha", 0).is_file() and stored_token(stamped, "alpha", 1).is_file()
    )
    index = stamped.session.ledger.index()
    assert index.stray == () and sorted(index.tokens["alpha"]) == [0, 1]
    report = verify_ledger(stamped.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.time_evidence["timestampsChecked"] == 2


def test_a_tampered_token_is_timestamp_invalid_naming_the_entry(stamped: World) -> None:
    history(stamped)
    token = stored_token(stamped, "alpha", 1)
    data = bytearray(token.read_bytes())
    data[-12] ^= 0x01  # inside the TSA's signature
    token.write_bytes(bytes(data))
    report = verify_ledger(stamped.session.ledger)
    assert rules(report) == {("alpha", 1, "timestamp-invalid")}
    assert token.name in report.violations[0].message


def test_a_token_of_another_entry_is_timestamp_mismatch(stamped: World) -> None:
    history(stamped)
    stored_token(stamped, "alpha", 1).write_bytes(stored_token(stamped, "alpha", 0).read_bytes())
    report = verify_ledger(stamped.session.ledger)
    assert rules(report) == {("alpha", 1, "timestamp-mismatch")}
    assert "a token of other bytes" in report.violations[0].message


def test_a_missing_token_is_timestamp_missing_naming_the_entry(stamped: World) -> None:
    history(stamped)
    stored_token(stamped, "alpha", 0).unlink()
    report = verify_ledger(stamped.session.ledger)
    assert rules(report) == {("alpha", 0, "timestamp-missing")}


def test_an_unreachable_tsa_refuses_the_write_with_exit_2_and_writes_nothing(
    world: World,
) -> None:
    down = LoopbackTsa(world.root.parent / "down-tsa")
    down.stop()  # the TSA's address is known, nothing answers there any more
    world.configure(clock="system")
    world = with_tsa(world, down)
    before = sorted(p.name for p in (world.root / "ledger").rglob("*") if p.is_file())
    result = run("--workspace", str(world.root), "register", "alpha")
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert f"the timestamp authority at {down.url}: it is unreachable" in said
    assert "nothing was written" in said and "Traceback" not in result.stderr
    after = sorted(p.name for p in (world.root / "ledger").rglob("*") if p.is_file())
    assert after == before == []


def test_a_token_whose_gen_time_is_far_from_the_entry_time_is_timestamp_skew(
    stamped: World, tmp_path: Path
) -> None:
    """A writer back-dates an entry by two days and gets a real token for it today."""
    register(stamped.session, "alpha")
    claimed = datetime.now(UTC) + timedelta(days=2)
    seq = forge_entry(stamped.session, "alpha", stamped.sponsor, kind="approval",
                      after=Stage.EXPLORE, time=claimed, clock="system",
                      records=sponsor_approval_record(stamped.session))  # fmt: skip
    raw = stamped.session.store.get(entry_key("alpha", seq))
    authority = stamped.session.timestamping
    assert authority is not None
    token = authority.stamp(raw, entry_time=claimed, tolerance=None, what="the crafted entry")
    stamped.session.store.put_new(token_key("alpha", seq, raw), token)

    report = verify_ledger(stamped.session.ledger)
    assert rules(report) == {
        ("alpha", seq, "timestamp-skew"),
        ("alpha", seq, "time-ahead-of-store"),
    }
    skew = next(v for v in report.violations if v.rule == "timestamp-skew")
    assert "after the TSA's genTime" in skew.message
    # Offline, with no store clock, the token alone still catches it.
    bundle, _ = export_bundle(stamped.session.ledger, "alpha")
    offline = verify_bundle(
        bundle, stamped.session.trust, clock=stamped.session.clock,
        timestamping=stamped.session.timestamping,
    )  # fmt: skip
    assert rules(offline) == {("alpha", seq, "timestamp-skew")}


def test_the_writer_refuses_a_token_whose_gen_time_disagrees_with_its_clock(
    stamped: World,
) -> None:
    from gates.tsa.authority import TimestampError

    authority = stamped.session.timestamping
    assert authority is not None
    with pytest.raises(TimestampError, match=r"refusing to write .*genTime"):
        authority.stamp(b"{}", entry_time=datetime.now(UTC) - timedelta(hours=3),
                        tolerance=timedelta(minutes=5), what="an entry")  # fmt: skip


def test_a_bundle_carries_the_tokens_and_is_checked_offline_against_the_tsa_chain(
    stamped: World, tmp_path: Path
) -> None:
    history(stamped)
    bundle, report = export_bundle(stamped.session.ledger, "alpha")
    assert report.intact and len(bundle.timestamps) == 2
    path = tmp_path / "alpha.bundle.json"
    write_bundle(bundle, path)
    shutil.rmtree(stamped.root / "ledger")  # offline: no store at all

    clock, timestamping = time_from_settings(stamped.root / "stagegate.toml")
    offline = verify_bundle(bundle, stamped.session.trust, clock=clock, timestamping=timestamping)
    assert offline.intact, [str(v) for v in offline.violations]
    assert offline.time_evidence["timestampsChecked"] == 2
    assert any("the timestamp tokens were checked instead" in n for n in offline.notes)

    doc = json.loads(path.read_text())
    token = bytearray(base64.b64decode(doc["timestamps"][1]["token"]))
    token[-12] ^= 0x01
    doc["timestamps"][1]["token"] = base64.b64encode(bytes(token)).decode()
    path.write_text(json.dumps(doc))
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "verify", "--bundle", str(path),
                                 "--trust", str(stamped.root / "stagegate.toml"), "--json"])  # fmt: skip
    assert result.exit_code == 1, result.output
    shown = json.loads(result.output)
    found = {(v["useCase"], v["sequence"], v["rule"]) for v in shown["violations"]}
    assert found == {("alpha", 1, "timestamp-invalid")}

    doc["timestamps"] = []
    path.write_text(json.dumps(doc))
    stripped = runner.invoke(app, ["audit", "verify", "--bundle", str(path),
                                   "--trust", str(stamped.root / "stagegate.toml"), "--json"])  # fmt: skip
    found = {
        (v["useCase"], v["sequence"], v["rule"]) for v in json.loads(stripped.output)["violations"]
    }
    assert found == {("alpha", 0, "timestamp-missing"), ("alpha", 1, "timestamp-missing")}


def test_a_token_left_by_a_writer_that_lost_the_race_is_neither_stray_nor_a_violation(
    stamped: World,
) -> None:
    history(stamped)
    authority = stamped.session.timestamping
    assert authority is not None
    losing = b'{"payload": "the envelope of a writer that lost entry 1"}'
    token = authority.stamp(losing, entry_time=datetime.now(UTC), tolerance=None, what="x")
    stamped.session.store.put_new(token_key("alpha", 1, losing), token)
    report = verify_ledger(stamped.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.time_evidence["timestampsChecked"] == 2


def test_entries_on_a_simulated_clock_get_tokens_without_comparing_times(
    world: World, tsa: LoopbackTsa
) -> None:
    world = with_tsa(world, tsa)
    world.register("alpha", 0)  # months before the TSA's genTime
    report = verify_ledger(world.session.ledger)
    assert report.intact, [str(v) for v in report.violations]
    assert report.simulated_clock and report.time_evidence["timestampsChecked"] == 1


def test_tokens_without_a_configured_tsa_chain_are_reported_unchecked(
    stamped: World,
) -> None:
    history(stamped)
    settings = stamped.root / "stagegate.toml"
    settings.write_text(settings.read_text().split("[timestamp]")[0])
    stamped.reopen()
    report = verify_ledger(stamped.session.ledger)
    assert report.intact
    assert any(n.startswith("2 timestamp token(s) were not checked") for n in report.notes)


def test_a_verifying_only_tsa_setting_flags_entries_written_without_tokens(
    world: World, tsa: LoopbackTsa
) -> None:
    world.configure(clock="system")
    register(world.session, "alpha")
    world = with_tsa(world, tsa, url=False)
    assert rules(verify_ledger(world.session.ledger)) == {("alpha", 0, "timestamp-missing")}


def test_token_keys_parse_and_nothing_else_does() -> None:
    raw = b"envelope bytes"
    key = token_key("alpha", 7, raw)
    assert key.startswith("chains/alpha/000000000007.") and key.endswith(".tsr")
    assert parse_token_key(key) == ("alpha", 7, key.split(".")[1])
    for bad in (
        "chains/alpha/000000000007.tsr",
        "chains/alpha/7." + "a" * 64 + ".tsr",
        "chains/alpha/000000000007." + "A" * 64 + ".tsr",
        "chains/alpha/000000000007." + "a" * 63 + ".tsr",
        "chains/alpha/x/000000000007." + "a" * 64 + ".tsr",
        "chains/alpha/٠٠٠٠٠٠٠٠٠٠٠٧." + "a" * 64 + ".tsr",
        "timestamps/alpha/000000000007." + "a" * 64 + ".tsr",
        entry_key("alpha", 7),
    ):
        assert parse_token_key(bad) is None, bad


def test_a_tsa_chain_without_the_timestamping_usage_is_refused_naming_the_file(
    tsa: LoopbackTsa, tmp_path: Path
) -> None:
    root_only = tmp_path / "ca-only.pem"
    root_only.write_bytes((tsa.folder / "ca.pem").read_bytes())
    with pytest.raises(ConfigError, match=r"ca-only\.pem.*not a timestamping certificate"):
        TsaChain.load(root_only)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"garbage\.pem.*not a PEM certificate chain"):
        TsaChain.load(garbage)


def test_validate_reports_a_tsa_url_without_its_chain(world: World) -> None:
    settings = world.root / "stagegate.toml"
    settings.write_text(settings.read_text() + '[timestamp]\ntsa_url = "http://127.0.0.1:9/"\n')
    result = CliRunner().invoke(app, ["--workspace", str(world.root), "validate"])
    assert result.exit_code == 2
    assert "tsa_url needs tsa_certificate" in " ".join(result.output.split())


def test_thousands_of_mutated_tokens_never_crash_nor_vouch_for_anything_else(
    tsa: LoopbackTsa,
) -> None:
    """Seeded random mutations of a real token: each is a value, never an exception.

    A few flips land in parts of the CMS SignerInfo that no signature covers (its
    version, the letter case of the issuer name, which X.509 compares case-blind, the
    signature algorithm's OID): OpenSSL still verifies those, and rightly so, since the
    signed time and imprint are untouched. So the property is: whatever still verifies
    vouches for exactly the original time and bytes.
    """
    chain = TsaChain.load(tsa.chain)
    from gates.tsa.authority import Timestamping

    envelope = b'{"payload": "x", "payloadType": "application/vnd.in-toto+json"}'
    token = Timestamping(chain, tsa.url).stamp(
        envelope, entry_time=datetime.now(UTC), tolerance=None, what="x"
    )
    original = check_token(token, envelope, chain)
    assert original.sound
    rng = random.Random(3161)
    tried = rejected = 0
    for _ in range(2000):
        data = bytearray(token)
        for _ in range(rng.randint(1, 4)):
            choice = rng.random()
            at = rng.randrange(len(data))
            if choice < 0.6:
                data[at] ^= 1 << rng.randrange(8)
            elif choice < 0.8:
                del data[at : at + rng.randint(1, 16)]
            else:
                data[at:at] = rng.randbytes(rng.randint(1, 8))
        if bytes(data) == token:
            continue
        tried += 1
        check = check_token(bytes(data), envelope, chain)  # must not raise
        if check.sound:
            assert check.gen_time == original.gen_time
        else:
            rejected += 1
        assert not check_token(bytes(data), envelope + b" ", chain).sound
    assert tried > 1900 and rejected > 0.99 * tried
