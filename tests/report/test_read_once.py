"""A page's shared read: each object fetched once, each signature checked once, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.errors import StoreError
from gates.report.read_once import ReadOnceStore, RememberingKey, remembering
from gates.signing.keys import generate_keypair
from gates.signing.signers import load_signer
from gates.signing.trust import TrustStore
from gates.store.local import LocalStore
from gates.workspace.settings import TrustedKey
from tests.support.counting_store import CountingStore


def test_a_remembering_key_checks_once_and_never_turns_a_bad_signature_good(
    tmp_path: Path,
) -> None:
    public = generate_keypair(tmp_path / "k.pem")
    signer = load_signer("file:k.pem", tmp_path)
    key = RememberingKey(public.keyid, public.raw)
    good = signer.sign(b"message")
    bad = bytes([good[0] ^ 1]) + good[1:]
    for _ in range(3):
        assert key.verify(good, b"message")
        assert not key.verify(bad, b"message")
        assert not key.verify(good, b"other message")
    assert len(key.seen) == 3


def test_remembering_keeps_names_roles_and_revocations(tmp_path: Path) -> None:
    generate_keypair(tmp_path / "a.pem")
    generate_keypair(tmp_path / "b.pem")
    trust = TrustStore.load(
        [
            TrustedKey(name="a", path="a.pub", roles=["gate"]),
            TrustedKey(name="b", path="b.pub", roles=["sponsor"], revoked=True),
        ],
        tmp_path,
    )
    copy = remembering(trust)
    assert {k: (s.name, s.roles, s.revoked) for k, s in copy.by_keyid.items()} == {
        k: (s.name, s.roles, s.revoked) for k, s in trust.by_keyid.items()
    }
    assert all(isinstance(s.public, RememberingKey) for s in copy.by_keyid.values())


def test_repeated_reads_are_answered_from_memory_in_the_order_asked(tmp_path: Path) -> None:
    inner = CountingStore(tmp_path / "store")
    for name in ("a", "b", "c"):
        inner.put_new(f"chains/x/{name}", name.encode())
    store = ReadOnceStore(inner)
    assert store.get("chains/x/b") == b"b"
    assert list(store.get_many(["chains/x/c", "chains/x/a", "chains/x/b"])) == [
        ("chains/x/c", b"c"), ("chains/x/a", b"a"), ("chains/x/b", b"b"),
    ]  # fmt: skip
    assert list(store.get_many(["chains/x/a", "chains/x/c"])) == [
        ("chains/x/a", b"a"), ("chains/x/c", b"c"),
    ]  # fmt: skip
    assert len(inner.reads) == 3


def test_past_its_budget_the_store_fetches_again_instead_of_growing(tmp_path: Path) -> None:
    inner = CountingStore(tmp_path / "store")
    inner.put_new("k", b"x" * 100)
    store = ReadOnceStore(inner, budget=50)
    assert store.get("k") == store.get("k") == b"x" * 100
    assert len(inner.reads) == 2


def test_the_page_store_never_writes(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path / "store")
    with pytest.raises(StoreError, match="never writes"):
        ReadOnceStore(inner).put_new("chains/x/000000000000.dsse.json", b"{}")
    assert inner.list_keys("") == []
