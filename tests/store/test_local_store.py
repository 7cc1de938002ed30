"""What only the folder store has to show (the contract itself is test_store_contract.py):
file times as its clock, no temporary files left, folders that are no objects, keys that
stay inside its root, and the paths and URIs that open one."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gates.errors import EntryExistsError, ObjectMissingError, StoreError
from gates.store.factory import open_store
from gates.store.local import READ_AHEAD, READ_SIZE, TEMP_MARKER, LocalStore, validate_key
from tests.store.test_store_contract import UNSAFE_KEYS


def test_listed_times_are_the_files_modification_times_whoever_set_them(
    local_store: LocalStore,
) -> None:
    local_store.put_new("ledger/uc/000000000001.json", b"one")
    local_store.put_new("ledger/uc/000000000002.json", b"two")
    # The folder's clock is whatever the files say: anyone who can write them can set it.
    set_back = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
    os.utime(local_store.root / "ledger" / "uc" / "000000000002.json", (set_back.timestamp(),) * 2)
    assert local_store.list_objects("ledger/uc/")[1].modified == set_back


def test_no_temporary_files_remain_after_writes_or_lost_races(local_store: LocalStore) -> None:
    local_store.put_new("k/1", b"a")
    with pytest.raises(EntryExistsError):
        local_store.put_new("k/1", b"b")
    leftovers = [p for p in local_store.root.rglob("*") if p.name.startswith(TEMP_MARKER)]
    assert leftovers == []


def test_a_folder_is_not_an_object(local_store: LocalStore) -> None:
    local_store.put_new("a/b", b"x")
    assert not local_store.exists("a")
    with pytest.raises(ObjectMissingError):
        local_store.get("a")
    with pytest.raises(StoreError) as caught:
        local_store.put_new("a", b"y")
    assert not isinstance(caught.value, EntryExistsError)


def test_unsafe_keys_write_nothing_anywhere_on_disk(local_store: LocalStore) -> None:
    for key in UNSAFE_KEYS:
        with pytest.raises(StoreError, match="invalid store key"):
            local_store.put_new(key, b"x")
    assert not any(local_store.root.parent.rglob("outside"))
    assert not local_store.root.exists() or not any(local_store.root.rglob("*"))


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


def test_a_folder_is_listed_a_page_at_a_time(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gates.store.local.LIST_PAGE", 2)
    for key in ("c/1", "a/1", "b/1", "a/2", "b-c/1"):
        local_store.put_new(key, b"")
    pages = [[o.key for o in page] for page in local_store.list_pages("")]
    assert pages == [["a/1", "a/2"], ["b-c/1", "b/1"], ["c/1"]]


@given(
    st.lists(
        st.sampled_from(["a", "b.c", ".", "..", "", "\\", "\x00", "x/", TEMP_MARKER]),
        min_size=1,
        max_size=6,
    )
)
def test_every_key_refused_for_writing_is_refused_for_reading(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    # Reads take a shortcut past the full key check for plain keys; whatever the shortcut
    # lets through must be a key the full check accepts, and nothing else may be read.
    key = "".join(parts)
    root = tmp_path_factory.mktemp("parent") / "root"
    store = LocalStore(root)
    (root.parent / "outside").write_bytes(b"secret")
    try:
        validate_key(key)
    except StoreError:
        with pytest.raises(StoreError, match="invalid store key"):
            store.get(key)
    else:
        with pytest.raises(ObjectMissingError):
            store.get(key)


@pytest.mark.parametrize("size", [0, 1, READ_SIZE - 1, READ_SIZE, 3 * READ_SIZE + 7])
def test_a_read_returns_every_byte_whatever_the_size(local_store: LocalStore, size: int) -> None:
    data = os.urandom(size)
    local_store.put_new("k/object", data)
    assert local_store.get("k/object") == data


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")


@needs_proc
@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="read-ahead needs posix_fadvise")
def test_reading_many_keeps_the_next_files_open_and_hands_on_what_get_reads(
    local_store: LocalStore,
) -> None:
    keys = [f"ledger/uc/{i:012d}.json" for i in range(2 * READ_AHEAD + 5)]
    keys.insert(7, "ledger/uc/.dotted")  # a valid key that is not plain: read by `get`
    for i, key in enumerate(keys):
        local_store.put_new(key, os.urandom(i * 997 % (2 * READ_SIZE)))
    before = _open_files()
    reading = local_store.get_many(keys)
    first = next(reading)
    # The files ahead are open (their reads asked for) as the first is handed on: the
    # next READ_AHEAD keys' but the dotted one's, which `get` reads in its turn.
    assert _open_files() - before == READ_AHEAD - 1
    assert [first, *reading] == [(key, local_store.get(key)) for key in keys]
    assert _open_files() == before


@needs_proc
@pytest.mark.parametrize(
    ("bad_key", "error", "message"),
    [
        ("ledger/uc/absent.json", ObjectMissingError, "no object at key"),
        ("ledger/uc", ObjectMissingError, "no object at key"),  # a folder
        ("ledger/../outside", StoreError, "invalid store key"),
    ],
)
def test_reading_many_raises_at_a_bad_key_in_its_turn_and_closes_every_file(
    local_store: LocalStore, bad_key: str, error: type[StoreError], message: str
) -> None:
    keys = [f"ledger/uc/{i:012d}.json" for i in range(10)]
    for key in keys:
        local_store.put_new(key, key.encode())
    before = _open_files()
    reading = local_store.get_many([*keys[:5], bad_key, *keys[5:]])
    # Everything before the bad key comes first, though it was looked at long before.
    assert [key for key, _ in itertools.islice(reading, 5)] == keys[:5]
    with pytest.raises(error, match=message):
        next(reading)
    assert _open_files() == before


@needs_proc
def test_a_read_of_many_left_early_closes_the_files_it_opened_ahead(
    local_store: LocalStore,
) -> None:
    keys = [f"k/{i}" for i in range(READ_AHEAD + 3)]
    for key in keys:
        local_store.put_new(key, b"x")
    before = _open_files()
    reading = local_store.get_many(keys)
    next(reading)
    assert _open_files() > before
    reading.close()
    assert _open_files() == before
