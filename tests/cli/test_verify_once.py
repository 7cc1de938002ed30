"""Verify once: the UI, ``status`` and the report re-check only signatures they have not
verified, yet an old entry rewritten after its head was verified is still caught; and
``audit verify`` is a full verification unless ``--since-checkpoint`` says otherwise,
saying which mode ran."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from gates.ledger.verified_heads import HeadsFile
from gates.stages import Stage
from tests.support.cli import run
from tests.support.forge import (
    entry_path,
    flip_payload_byte,
    forge_entry,
    replace_signature,
    vouch_for,
)
from tests.support.presets import ledger_world
from tests.support.ui_server import live_server
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """alpha: registration and two approvals (0-2); beta: registration; a cache folder
    of the test's own."""
    monkeypatch.setenv("STAGEGATE_CACHE_DIR", str(tmp_path / "cache"))
    world = ledger_world(tmp_path / "ws")
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    world.approve("alpha", "budget_owner", 2)
    world.register("beta", 0)
    return world


INTACT = "✓ Verified:"


# --- the UI ---------------------------------------------------------------------------


def test_the_ui_checks_a_chains_signatures_once_then_serves_it_without_checking_again(
    world: World, signature_checks: list[str]
) -> None:
    with live_server(world.root) as url, httpx.Client(base_url=url, timeout=30) as c:
        first = c.get("/usecases/alpha")
        after_first = len(signature_checks)
        again = [c.get(path) for path in ("/usecases/alpha", "/entries/alpha/1")]

    assert first.status_code == 200 and INTACT in first.text
    assert after_first == 3
    assert all(r.status_code == 200 and INTACT in r.text for r in again)
    assert len(signature_checks) == after_first


@pytest.mark.parametrize(
    "rewrite", [replace_signature, flip_payload_byte], ids=["signature", "payload"]
)
def test_the_ui_flags_an_old_entry_rewritten_after_its_head_was_verified(
    world: World, rewrite: object
) -> None:
    with live_server(world.root) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert INTACT in c.get("/usecases/alpha").text
        assert INTACT in c.get("/").text
        rewrite(world.root, "alpha", 1)  # type: ignore[operator]
        pages = [c.get(path) for path in ("/usecases/alpha", "/entries/alpha/2", "/")]

    for page in pages:
        assert page.status_code == 200
        assert INTACT not in page.text
        assert "Verification failed" in page.text and "signature-invalid" in page.text


# --- status and the report ------------------------------------------------------------


def kept_size(world: World, usecase: str) -> int | None:
    cache = HeadsFile(Path(world.root.parent / "cache"))
    heads = cache.heads(world.session.trust, world.session.store.uri)
    head = heads.head(usecase)
    return head.size if head else None


def test_status_keeps_the_heads_it_verified_and_extends_them_with_new_entries(
    world: World,
) -> None:
    assert kept_size(world, "alpha") is None
    first = run("--workspace", str(world.root), "status", "--json")
    assert first.returncode == 0, first.stderr
    assert kept_size(world, "alpha") == 3 and kept_size(world, "beta") == 1

    world.decide("alpha", "no-go", 3, reason="priorities changed")
    again = run("--workspace", str(world.root), "status", "alpha", "--json")

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["stage"] == "stopped"
    assert kept_size(world, "alpha") == 5  # the sponsor's decision approval and the decision


def test_status_refuses_an_old_entry_rewritten_after_its_head_was_kept(world: World) -> None:
    assert run("--workspace", str(world.root), "status").returncode == 0
    assert kept_size(world, "alpha") == 3
    replace_signature(world.root, "alpha", 1)

    result = run("--workspace", str(world.root), "status", "alpha")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "alpha#1: [signature-invalid]" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_report_flags_an_old_entry_rewritten_after_its_heads_were_kept(
    world: World, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    first = run("--workspace", str(world.root), "audit", "report", "--out", str(site))
    assert first.returncode == 0, first.stdout + first.stderr
    assert kept_size(world, "alpha") == 3
    replace_signature(world.root, "alpha", 1)

    again = run("--workspace", str(world.root), "audit", "report", "--out", str(site))

    assert again.returncode == 1, again.stdout + again.stderr
    page = (site / "usecases" / "alpha.html").read_text()
    assert "signature-invalid" in page and INTACT not in page


def test_a_forged_cache_file_never_makes_status_accept_a_rewritten_entry(world: World) -> None:
    """Whoever can write the cache but not read the secret edits it to vouch for the
    rewritten bytes: the MAC no longer holds, the file is dropped, the rewrite is caught."""
    assert run("--workspace", str(world.root), "status").returncode == 0
    path = HeadsFile(world.root.parent / "cache").path(world.session.store.uri)
    replace_signature(world.root, "alpha", 1)
    vouch_for(path, "alpha", 1, entry_path(world.root, "alpha", 1).read_bytes())

    result = run("--workspace", str(world.root), "status", "alpha")

    assert result.returncode == 2 and "alpha#1: [signature-invalid]" in result.stderr


# --- audit verify: full by default, --since-checkpoint on request -----------------------


def audit_verify(world: World, *args: str) -> tuple[int, str, dict[str, object]]:
    human = run("--workspace", str(world.root), "audit", "verify", *args)
    as_json = run("--workspace", str(world.root), "audit", "verify", *args, "--json")
    assert human.returncode == as_json.returncode, human.stderr + as_json.stderr
    return human.returncode, human.stdout, json.loads(as_json.stdout)


def test_audit_verify_is_a_full_verification_by_default_and_says_so(world: World) -> None:
    world.checkpoint(3)

    code, out, doc = audit_verify(world)

    assert code == 0
    assert "mode: full verification, every entry's signature checked" in out
    assert doc["mode"] == {
        "name": "full", "entriesVerified": 4, "entriesTrusted": 0,
        "checkpoint": None, "fallback": None,
    }  # fmt: skip


def test_since_checkpoint_catches_a_forged_entry_after_it_and_says_it_trusted_it(
    world: World,
) -> None:
    world.checkpoint(3)
    forge_entry(
        world.session, "alpha", world.outsider, kind="decision", after=Stage.STOPPED,
        time=world.at(4), records={"decision": {"decision": "no-go", "reason": "x"}},
    )  # fmt: skip

    code, out, doc = audit_verify(world, "--since-checkpoint")

    assert code == 1
    assert "mode: since checkpoint #0" in out and "trusted after verifying its signature" in out
    assert "4 entries it covers taken as it recorded them" in out
    assert "1 entries verified in full" in out
    assert "alpha#3: [signer-untrusted]" in out
    mode = doc["mode"]
    assert isinstance(mode, dict)
    assert (mode["name"], mode["entriesTrusted"], mode["entriesVerified"]) == (
        "since-checkpoint", 4, 1,
    )  # fmt: skip
    assert mode["checkpoint"]["sequence"] == 0  # type: ignore[index]


def test_since_checkpoint_still_catches_a_payload_rewritten_before_the_checkpoint(
    world: World,
) -> None:
    """Covered entries' signatures are not checked, their links are: a changed payload
    no longer hashes to what the next entry, and the checkpoint, recorded."""
    world.checkpoint(3)
    flip_payload_byte(world.root, "alpha", 1)

    code, _out, doc = audit_verify(world, "--since-checkpoint")

    assert code == 1
    rules = {(v["useCase"], v["rule"]) for v in doc["violations"]}  # type: ignore[union-attr]
    assert ("alpha", "link-broken") in rules


def test_since_checkpoint_without_a_checkpoint_runs_in_full_and_says_why(world: World) -> None:
    code, out, doc = audit_verify(world, "--since-checkpoint")

    assert code == 0
    assert "mode: full verification" in out and "no sound checkpoint to start from" in out
    assert doc["mode"]["fallback"] == "no sound checkpoint to start from"  # type: ignore[index]


def test_since_checkpoint_refuses_a_bundle(world: World, tmp_path: Path) -> None:
    result = run(
        "--workspace", str(world.root), "audit", "verify", "--since-checkpoint",
        "--bundle", str(tmp_path / "b.zip"),
    )  # fmt: skip

    assert result.returncode == 2 and "--since-checkpoint" in result.stderr
