"""LocalStore keeps the store contract on a real folder: create-only, atomic, safe keys."""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gates.errors import EntryExistsError, ObjectMissingError, StoreError
from gates.store.factory import open_store
from gates.store.interface import ObjectStore
from gates.store.local import TEMP_MARKER, LocalStore, validate_key


def test_local_store_satisfies_the_store_protocol(local_store: LocalStore) -> None:
    assert isinstance(local_store, ObjectStore)


def test_listed_objects_carry_each_files_modification_time(local_store: LocalStore) -> None:
    before = datetime.now(UTC)
    local_store.put_new("ledger/uc/000000000001.json", b"one")
    local_store.put_new("ledger/uc/000000000002.json", b"two")
    (first, second) = local_store.list_objects("ledger/uc/")
    assert [first.key, second.key] == local_store.list_keys("ledger/uc/")
    assert before - timedelta(seconds=2) <= first.modified <= datetime.now(UTC)
    # The folder's clock is whatever the files say: anyone who can write them can set it.
    set_back = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
    os.utime(local_store.root / "ledger" / "uc" / "000000000002.json", (set_back.timestamp(),) * 2)
    assert local_store.list_objects("ledger/uc/")[1].modified == set_back
    assert local_store.list_objects("missing/") == []


def test_put_then_get_list_and_exists_roundtrip(local_store: LocalStore) -> None:
    local_store.put_new("ledger/uc/000000000002.json", b"two")
    local_store.put_new("ledger/uc/000000000001.json", b"one")
    local_store.put_new("ledger/other/000000000001.json", b"other")

    assert local_store.get("ledger/uc/000000000001.json") == b"one"
    assert local_store.exists("ledger/uc/000000000002.json")
    assert not local_store.exists("ledger/uc/000000000003.json")
    assert local_store.list_keys("ledger/uc/") == [
        "ledger/uc/000000000001.json",
        "ledger/uc/000000000002.json",
    ]
    assert local_store.list_keys("") == [
        "ledger/other/000000000001.json",
        "ledger/uc/000000000001.json",
        "ledger/uc/000000000002.json",
    ]


def test_list_keys_matches_a_partial_last_segment_like_s3(local_store: LocalStore) -> None:
    for key in ("a/x1", "a/x2", "a/y1", "ab/x1"):
        local_store.put_new(key, b"")
    assert local_store.list_keys("a/x") == ["a/x1", "a/x2"]
    assert local_store.list_keys("a") == ["a/x1", "a/x2", "a/y1", "ab/x1"]
    assert local_store.list_keys("missing/") == []


def test_put_new_on_existing_key_raises_and_keeps_original_bytes(local_store: LocalStore) -> None:
    local_store.put_new("k/1", b"original")
    with pytest.raises(EntryExistsError, match="already exists"):
        local_store.put_new("k/1", b"intruder")
    assert local_store.get("k/1") == b"original"


def test_no_temporary_files_remain_after_writes_or_lost_races(local_store: LocalStore) -> None:
    local_store.put_new("k/1", b"a")
    with pytest.raises(EntryExistsError):
        local_store.put_new("k/1", b"b")
    leftovers = [p for p in local_store.root.rglob("*") if p.name.startswith(TEMP_MARKER)]
    assert leftovers == []


def test_twenty_threads_racing_put_new_have_exactly_one_winner(local_store: LocalStore) -> None:
    start = threading.Barrier(20)
    winners: list[bytes] = []
    losers: list[bytes] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        data = f"writer-{n}".encode() * 1000
        start.wait()
        try:
            local_store.put_new("ledger/uc/000000000001.json", data)
        except EntryExistsError:
            with lock:
                losers.append(data)
        else:
            with lock:
                winners.append(data)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(winners) == 1
    assert len(losers) == 19
    assert local_store.get("ledger/uc/000000000001.json") == winners[0]


def test_readers_never_see_a_partial_object(local_store: LocalStore) -> None:
    big = os.urandom(4 * 1024 * 1024)
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with contextlib.suppress(ObjectMissingError):
                seen.append(len(local_store.get("big")))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        local_store.put_new("big", big)
    finally:
        stop.set()
        reader.join()
    assert set(seen) <= {len(big)}
    assert local_store.get("big") == big


def test_get_of_missing_key_raises_object_missing_naming_the_key(
    local_store: LocalStore,
) -> None:
    with pytest.raises(ObjectMissingError, match="nothing/here"):
        local_store.get("nothing/here")


def test_a_folder_is_not_an_object(local_store: LocalStore) -> None:
    local_store.put_new("a/b", b"x")
    assert not local_store.exists("a")
    with pytest.raises(ObjectMissingError):
        local_store.get("a")
    with pytest.raises(StoreError) as caught:
        local_store.put_new("a", b"y")
    assert not isinstance(caught.value, EntryExistsError)


def test_get_many_yields_in_input_order(local_store: LocalStore) -> None:
    keys = [f"k/{n:04d}" for n in range(50)]
    for key in reversed(keys):
        local_store.put_new(key, key.encode())
    order = keys[::3] + keys[1::3] + keys[2::3]
    assert list(local_store.get_many(order)) == [(k, k.encode()) for k in order]


def test_get_many_raises_object_missing_for_an_absent_key(local_store: LocalStore) -> None:
    local_store.put_new("k/1", b"1")
    with pytest.raises(ObjectMissingError, match="k/2"):
        list(local_store.get_many(["k/1", "k/2"]))


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../outside",
        "a/../../outside",
        "a/./b",
        "a//b",
        "a/",
        "a\\b",
        "..",
        f"a/{TEMP_MARKER}x",
        "a\x00b",
    ],
)
def test_unsafe_keys_are_refused(local_store: LocalStore, key: str) -> None:
    with pytest.raises(StoreError, match="invalid store key"):
        local_store.put_new(key, b"x")
    with pytest.raises(StoreError, match="invalid store key"):
        local_store.get(key)
    assert not any(local_store.root.parent.rglob("outside"))


_segment = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", "..") and not s.startswith(TEMP_MARKER))


@given(st.lists(_segment, min_size=1, max_size=5))
def test_every_key_of_safe_segments_is_accepted(segments: list[str]) -> None:
    key = "/".join(segments)
    assert validate_key(key) == key


@given(
    st.lists(_segment, max_size=3),
    st.sampled_from(["", ".", "..", "a\\b", "\x00"]),
    st.lists(_segment, max_size=3),
)
def test_every_key_with_an_unsafe_segment_is_refused(
    before: list[str], bad: str, after: list[str]
) -> None:
    with pytest.raises(StoreError):
        validate_key("/".join([*before, bad, *after]))


@given(st.lists(_segment, min_size=1, max_size=4), st.binary(max_size=64))
def test_any_safe_key_stays_inside_the_root(
    tmp_path_factory: pytest.TempPathFactory, segments: list[str], data: bytes
) -> None:
    # Keys may hold any character the file system accepts; none may escape the root.
    store = LocalStore(tmp_path_factory.mktemp("root"))
    key = "/".join(segments)
    store.put_new(key, data)
    assert store.get(key) == data
    assert store.list_keys("") == [key]
    resolved = (store.root / key).resolve()
    assert resolved.is_relative_to(store.root.resolve())


def test_open_store_makes_local_stores_from_paths_and_file_uris(tmp_path: Path) -> None:
    plain = open_store(str(tmp_path / "plain"))
    assert isinstance(plain, LocalStore)
    assert (tmp_path / "plain").is_dir()
    as_uri = open_store((tmp_path / "uri dir").as_uri())
    assert isinstance(as_uri, LocalStore)
    assert as_uri.root == tmp_path / "uri dir"
    as_uri.put_new("x", b"1")
    assert (tmp_path / "uri dir" / "x").read_bytes() == b"1"


@pytest.mark.parametrize(
    "uri", ["gs://bucket/x", "http://example.invalid/x", "file://otherhost/x", "s3://", ""]
)
def test_open_store_refuses_other_uris_naming_them(uri: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(uri)
    if uri:
        assert uri in caught.value.diagnostics()
    assert "s3://bucket" in caught.value.diagnostics()
