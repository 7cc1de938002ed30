"""Verified chain heads: a head verified once spares later readers its signature checks,
and nothing about it — a rewritten entry, a changed trust list, an edited or forged
cache file — can make a tampered ledger look intact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gates.ledger.chain import Ledger
from gates.ledger.verified_heads import (
    HeadsFile,
    HeadsMemory,
    VerifiedHeads,
    trust_fingerprint,
)
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.signing.trust import TrustStore
from gates.stages import Stage
from tests.support.forge import (
    entry_path,
    flip_payload_byte,
    forge_entry,
    replace_signature,
    vouch_for,
)
from tests.support.world import World


@pytest.fixture
def chained(world: World) -> World:
    """alpha: registration and two approvals (0-2); beta: registration (0)."""
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    world.approve("alpha", "budget_owner", 2)
    world.register("beta", 0)
    return world


def reading(world: World, heads: VerifiedHeads, trust: TrustStore | None = None) -> Ledger:
    s = world.session
    return Ledger(s.store, trust or s.trust, s.clock, heads=heads)


def found(report: VerificationReport) -> list[tuple[str, int | None, str]]:
    return [(v.usecase, v.sequence, v.rule) for v in report.violations]


def test_a_verified_head_spares_the_signature_checks_of_every_entry_it_covers(
    chained: World, signature_checks: list[str]
) -> None:
    heads = VerifiedHeads(trust_fingerprint(chained.session.trust))

    first = verify_ledger(reading(chained, heads))
    checks_first = len(signature_checks)
    second = verify_ledger(reading(chained, heads))

    assert first.intact and second.intact
    assert first.to_json() == second.to_json()
    assert checks_first == 4 and len(signature_checks) == checks_first
    assert (heads.signatures_checked, heads.signatures_skipped) == (4, 4)
    assert heads.head("alpha") is not None and heads.head("alpha").size == 3  # type: ignore[union-attr]


def test_only_entries_after_the_verified_head_have_their_signatures_checked(
    chained: World, signature_checks: list[str]
) -> None:
    heads = VerifiedHeads(trust_fingerprint(chained.session.trust))
    verify_ledger(reading(chained, heads))
    chained.decide("alpha", "no-go", 3, reason="priorities changed")
    signature_checks.clear()

    report = verify_ledger(reading(chained, heads))

    assert report.intact
    # the two new entries' (the sponsor's decision approval, the decision), and only them
    assert len(signature_checks) == 2
    assert heads.head("alpha").size == 5  # type: ignore[union-attr]


def test_a_new_entry_after_the_verified_head_is_verified_in_full(chained: World) -> None:
    heads = VerifiedHeads(trust_fingerprint(chained.session.trust))
    verify_ledger(reading(chained, heads))
    forge_entry(
        chained.session, "alpha", chained.outsider, kind="decision", after=Stage.STOPPED,
        time=chained.at(4), records={"decision": {"decision": "no-go", "reason": "x"}},
    )  # fmt: skip

    report = verify_ledger(reading(chained, heads))

    assert ("alpha", 3, "signer-untrusted") in found(report)


@pytest.mark.parametrize(
    "rewrite", [replace_signature, flip_payload_byte], ids=["signature", "payload"]
)
def test_an_old_entry_rewritten_after_its_head_was_verified_is_caught_as_without_heads(
    chained: World, rewrite: object
) -> None:
    heads = VerifiedHeads(trust_fingerprint(chained.session.trust))
    assert verify_ledger(reading(chained, heads)).intact
    rewrite(chained.root, "alpha", 1)  # type: ignore[operator]

    cached = verify_ledger(reading(chained, heads))
    full = verify_ledger(chained.session.ledger)

    assert ("alpha", 1, "signature-invalid") in found(cached)
    assert found(cached) == found(full)
    # Nor does a second look trust the rewritten chain: it never became a head.
    assert found(verify_ledger(reading(chained, heads))) == found(full)


def test_a_chain_replayed_for_a_status_also_checks_only_new_signatures(
    chained: World, signature_checks: list[str]
) -> None:
    heads = VerifiedHeads(trust_fingerprint(chained.session.trust))
    reading(chained, heads).state("alpha")
    signature_checks.clear()

    state = reading(chained, heads).state("alpha")

    assert state.next_sequence == 3 and signature_checks == []
    replace_signature(chained.root, "alpha", 0)
    with pytest.raises(Exception, match="signature-invalid"):
        reading(chained, heads).state("alpha")


def revoke(trust: TrustStore, role: str) -> TrustStore:
    """The trust list with the key holding ``role`` revoked."""
    assert any(role in s.roles for s in trust.by_keyid.values())
    return replace(
        trust,
        by_keyid={
            k: replace(s, revoked=True) if role in s.roles else s for k, s in trust.by_keyid.items()
        },
    )


def test_a_changed_trust_list_never_uses_heads_verified_under_the_old_one(
    chained: World, signature_checks: list[str]
) -> None:
    trust = chained.session.trust
    memory = HeadsMemory()
    store = chained.session.store.uri
    verify_ledger(reading(chained, memory.heads(trust, store)))
    signature_checks.clear()
    changed = revoke(trust, "sponsor")

    report = verify_ledger(reading(chained, memory.heads(changed, store), changed))

    assert trust_fingerprint(changed) != trust_fingerprint(trust)
    assert len(signature_checks) == 4  # every entry checked again
    assert ("alpha", 1, "signer-revoked") in found(report)
    # Heads handed a trust list other than their own do not apply to it either.
    signature_checks.clear()
    verify_ledger(reading(chained, memory.heads(trust, store), changed))
    assert len(signature_checks) == 4


# --- the file the command line keeps heads in ----------------------------------------


def filled_file(world: World, folder: Path) -> tuple[HeadsFile, Path]:
    cache = HeadsFile(folder)
    heads = cache.heads(world.session.trust, world.session.store.uri)
    assert verify_ledger(reading(world, heads)).intact
    cache.save(heads)
    path = cache.path(world.session.store.uri)
    assert path.is_file()
    return cache, path


def test_heads_kept_in_the_file_spare_the_next_command_its_signature_checks(
    chained: World, tmp_path: Path, signature_checks: list[str]
) -> None:
    _cache, path = filled_file(chained, tmp_path / "cache")
    signature_checks.clear()

    heads = HeadsFile(tmp_path / "cache").heads(chained.session.trust, chained.session.store.uri)
    report = verify_ledger(reading(chained, heads))

    assert report.intact and heads.discarded is None
    assert signature_checks == []
    assert oct((tmp_path / "cache" / "secret").stat().st_mode & 0o777) == "0o600"
    # Digests only: no entry, payload or verdict is in the file.
    text = path.read_text()
    assert "payload" not in text and "intact" not in text and "registration" not in text


def test_a_forged_heads_file_never_makes_a_rewritten_entry_look_intact(
    chained: World, tmp_path: Path
) -> None:
    """The attacker rewrites entry alpha#1 in the store, then edits the cache file so its
    digest for alpha#1 is the rewritten bytes' — without the secret the MAC fails."""
    cache, path = filled_file(chained, tmp_path / "cache")
    replace_signature(chained.root, "alpha", 1)
    vouch_for(path, "alpha", 1, entry_path(chained.root, "alpha", 1).read_bytes())

    heads = cache.heads(chained.session.trust, chained.session.store.uri)
    report = verify_ledger(reading(chained, heads))

    assert heads.discarded is not None and "MAC does not match" in heads.discarded
    assert heads.head("alpha") is None
    assert ("alpha", 1, "signature-invalid") in found(report)


def test_a_heads_file_signed_under_another_secret_is_discarded(
    chained: World, tmp_path: Path
) -> None:
    _, theirs = filled_file(chained, tmp_path / "elsewhere")
    mine, target = filled_file(chained, tmp_path / "mine")
    target.write_bytes(theirs.read_bytes())

    heads = mine.heads(chained.session.trust, chained.session.store.uri)

    assert heads.discarded is not None and "MAC" in heads.discarded
    assert heads.heads() == {}


@pytest.mark.parametrize(
    "damage",
    ["delete the secret", "truncate the file", "not json", "other store"],
)
def test_a_heads_file_that_cannot_be_checked_is_discarded_never_believed(
    chained: World, tmp_path: Path, damage: str
) -> None:
    cache, path = filled_file(chained, tmp_path / "cache")
    uri = chained.session.store.uri
    if damage == "delete the secret":
        (tmp_path / "cache" / "secret").unlink()
    elif damage == "truncate the file":
        path.write_bytes(path.read_bytes()[:40])
    elif damage == "not json":
        path.write_bytes(b"\xff\x00")
    else:
        path.rename(cache.path("s3://other/ledger"))
        path = cache.path("s3://other/ledger")
        uri = "s3://other/ledger"

    heads = cache.heads(chained.session.trust, uri)

    assert heads.discarded is not None
    assert heads.heads() == {}


def test_a_heads_file_written_under_another_trust_list_is_discarded(
    chained: World, tmp_path: Path, signature_checks: list[str]
) -> None:
    cache, _ = filled_file(chained, tmp_path / "cache")
    signature_checks.clear()
    changed = revoke(chained.session.trust, "budget_owner")

    heads = cache.heads(changed, chained.session.store.uri)
    verify_ledger(reading(chained, heads, changed))

    assert heads.discarded is not None and "another trust list" in heads.discarded
    assert len(signature_checks) == 4
