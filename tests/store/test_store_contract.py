"""The store contract, written once and kept by every store: a folder, memory and S3.

What the ledger relies on (``gates/store/interface.py``): ``put_new`` creates a key or
refuses with ``EntryExistsError``, keeping the first bytes, and of writers racing for
one key exactly one wins; a reader never sees half an object; ``get`` of a missing key
is ``ObjectMissingError`` naming it; listings are sorted, match prefixes as S3 does and
carry when the store received each object; ``get_many`` yields in the order asked; and
every store refuses the same unsafe keys. S3 runs on the session's real SeaweedFS, with
``get_many`` on its bulk read path and, as when that path is off, through botocore.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gates.errors import EntryExistsError, ObjectMissingError, StoreError
from gates.store.interface import ObjectStore
from gates.store.local import TEMP_MARKER, LocalStore
from gates.store.memory import MemoryStore
from gates.store.s3 import S3Store

#: Keys no store accepts: empty, absolute, climbing out, empty or dot segments,
#: backslashes, NUL, and the folder store's own temporary-file marker.
UNSAFE_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "a/../b",
    "a/./b",
    "a//b",
    "a/",
    "a\\b",
    "..",
    f"a/{TEMP_MARKER}x",
    "a\x00b",
]


@dataclass
class Backend:
    store: ObjectStore
    #: Another handle on the same objects, as another writer would open it.
    open_again: Callable[[], ObjectStore]


@pytest.fixture(
    params=[
        "folder",
        "memory",
        pytest.param("s3", marks=pytest.mark.s3),
        pytest.param("s3-botocore-reads", marks=pytest.mark.s3),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "folder":
        root = tmp_path / "store"
        return Backend(LocalStore(root), lambda: LocalStore(root))
    if request.param == "memory":
        store = MemoryStore()
        return Backend(store, lambda: store)  # one process's memory: its handle is the store
    bucket = request.getfixturevalue("s3_bucket")
    # "s3" reads in bulk on its own path; "s3-botocore-reads" as when that path is off.
    bulk = request.param == "s3"
    s3 = S3Store(bucket, "contract", fast_read=bulk)
    assert (s3._bulk_reader() is not None) == bulk, "get_many is not on the path under test"
    return Backend(s3, lambda: S3Store(bucket, "contract", fast_read=bulk))


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    return backend.store


def put_all(store: ObjectStore, keys: list[str]) -> None:
    """Each key with its own name as bytes, written concurrently."""
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: store.put_new(k, k.encode()), keys))


def test_the_store_satisfies_the_store_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_then_get_list_and_exists_roundtrip(store: ObjectStore) -> None:
    store.put_new("ledger/uc/000000000002.json", b"two")
    store.put_new("ledger/uc/000000000001.json", b"one")
    store.put_new("ledger/other/000000000001.json", b"other")

    assert store.get("ledger/uc/000000000001.json") == b"one"
    assert store.exists("ledger/uc/000000000002.json")
    assert not store.exists("ledger/uc/000000000003.json")
    assert store.list_keys("ledger/uc/") == [
        "ledger/uc/000000000001.json",
        "ledger/uc/000000000002.json",
    ]
    assert store.list_keys("") == [
        "ledger/other/000000000001.json",
        "ledger/uc/000000000001.json",
        "ledger/uc/000000000002.json",
    ]


def test_list_keys_matches_a_partial_last_segment_like_s3(store: ObjectStore) -> None:
    for key in ("a/x1", "a/x2", "a/y1", "ab/x1"):
        store.put_new(key, b"")
    assert store.list_keys("a/x") == ["a/x1", "a/x2"]
    assert store.list_keys("a") == ["a/x1", "a/x2", "a/y1", "ab/x1"]
    assert store.list_keys("missing/") == []


def test_listed_objects_carry_when_the_store_received_each(store: ObjectStore) -> None:
    before = datetime.now(UTC)
    store.put_new("chains/uc/000000000002.dsse.json", b"two")
    store.put_new("chains/uc/000000000001.dsse.json", b"one")
    listed = store.list_objects("chains/uc/")
    assert [o.key for o in listed] == store.list_keys("chains/uc/")
    assert len(listed) == 2
    for info in listed:
        assert info.modified.utcoffset() == timedelta(0)
        slack = timedelta(seconds=2)
        assert before - slack <= info.modified <= datetime.now(UTC) + slack
    assert store.list_objects("missing/") == []


def test_pages_list_every_object_once_keeping_each_folder_together(store: ObjectStore) -> None:
    """S3 lists by key, SeaweedFS folder by folder, a folder store in key order: either
    way a folder's objects come together ("a/x" is not split by "a-b/x" or "a.b"), which
    a ledger's listing streamed chain by chain relies on."""
    keys = ["a/x", "a-b/x", "a.b", "a/b/c", "a0", "a/x-y", "a/w/z", "b"]
    put_all(store, keys)
    pages = list(store.list_pages(""))  # type: ignore[attr-defined]
    paged = [listed.key for page in pages for listed in page]
    assert sorted(paged) == sorted(keys) and len(paged) == len(keys)
    for folder in ("a/", "a-b/", "a/w/"):
        at = [number for number, key in enumerate(paged) if key.startswith(folder)]
        assert at == list(range(at[0], at[-1] + 1)), (folder, paged)
    assert store.list_objects("") == sorted(listed for page in pages for listed in page)


def test_put_new_on_an_existing_key_raises_and_keeps_the_original_bytes(
    store: ObjectStore,
) -> None:
    store.put_new("k/1", b"original")
    with pytest.raises(EntryExistsError, match="already exists"):
        store.put_new("k/1", b"intruder")
    assert store.get("k/1") == b"original"


def test_twenty_writers_racing_put_new_have_exactly_one_winner(backend: Backend) -> None:
    # Each writer has its own handle (and so, on S3, its own client and connections).
    stores = [backend.open_again() for _ in range(20)]
    for store in stores:
        store.exists("warm-up")  # open each client before the race starts
    start = threading.Barrier(20)
    winners: list[bytes] = []
    losers: list[bytes] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        data = f"writer-{n}".encode() * 500
        start.wait()
        try:
            stores[n].put_new("ledger/uc/000000000001.json", data)
        except EntryExistsError:
            with lock:
                losers.append(data)
        except BaseException as e:
            with lock:
                failures.append(e)
        else:
            with lock:
                winners.append(data)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(winners) == 1
    assert len(losers) == 19
    assert backend.store.get("ledger/uc/000000000001.json") == winners[0]


def test_readers_never_see_a_partial_object(store: ObjectStore) -> None:
    big = os.urandom(4 * 1024 * 1024)
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with contextlib.suppress(ObjectMissingError):
                seen.append(len(store.get("big")))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        store.put_new("big", big)
    finally:
        stop.set()
        reader.join()
    assert set(seen) <= {len(big)}
    assert store.get("big") == big


def test_get_of_a_missing_key_raises_object_missing_naming_the_key(store: ObjectStore) -> None:
    with pytest.raises(ObjectMissingError, match="nothing/here"):
        store.get("nothing/here")
    assert not store.exists("nothing/here")


def test_get_many_yields_in_the_order_asked(store: ObjectStore) -> None:
    keys = [f"ledger/uc/{n:012d}.json" for n in range(300)]
    put_all(store, keys)
    # A shuffled but known order, so "sorted" or "completion order" would both fail.
    order = keys[::3] + keys[1::3] + keys[2::3]
    assert list(store.get_many(order)) == [(k, k.encode()) for k in order]


def test_get_many_raises_object_missing_at_an_absent_key(store: ObjectStore) -> None:
    put_all(store, ["k/1", "k/3"])
    results = store.get_many(["k/1", "k/2", "k/3"])
    assert next(results) == ("k/1", b"k/1")
    with pytest.raises(ObjectMissingError, match="k/2"):
        next(results)


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_by_every_operation(store: ObjectStore, key: str) -> None:
    for operation in (
        lambda: store.put_new(key, b"x"),
        lambda: store.get(key),
        lambda: store.exists(key),
    ):
        with pytest.raises(StoreError, match="invalid store key") as refused:
            operation()
        assert not isinstance(refused.value, ObjectMissingError | EntryExistsError)
    assert store.list_keys("") == []
