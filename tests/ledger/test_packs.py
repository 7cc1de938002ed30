"""Packs make reading a ledger from S3 cheap without changing what is verified.

Every test runs against the real SeaweedFS of the session: its listing's ETags are what
decide whether a pack member may stand in for the stored object. The attacks are those
of someone who can write to the store: packs that disagree with the stored entries,
packs that still hold entries deleted since, packs that do not parse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gates.ledger.chain import Ledger
from gates.ledger.entry import entry_key
from gates.ledger.packs import (
    PackIndex,
    encode_pack,
    md5_of_etag,
    pack_key,
    parse_pack_key,
    read_objects,
)
from gates.ledger.parallel_verify import Parallelism
from gates.ledger.verify import verify_ledger
from gates.store.interface import ObjectInfo, ObjectStore
from tests.ledger.test_parallel_verify import EXPECTED, found, tampered
from tests.support.cli import run
from tests.support.forge import delete_object
from tests.support.presets import ledger_world
from tests.support.world import World

pytestmark = pytest.mark.s3


class CountingStore:
    """An S3 store that counts the objects read through it."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.modified_by = inner.modified_by
        self.reads: list[str] = []

    def put_new(self, key: str, data: bytes) -> None:
        self.inner.put_new(key, data)

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list_keys(self, prefix: str) -> list[str]:
        return self.inner.list_keys(prefix)

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        return self.inner.list_objects(prefix)

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for key, data in self.inner.get_many(keys):
            self.reads.append(key)
            yield key, data


def s3_world(tmp_path: Path, bucket: str) -> World:
    world = ledger_world(tmp_path / "ws")
    world.use_store(f"s3://{bucket}/ledger")
    return world


def grow(world: World, usecase: str, entries: int) -> None:
    """Register ``usecase`` and append re-check entries until its chain has ``entries``."""
    world.register(usecase, 0)
    for day in range(1, entries):
        world.record_recheck(usecase, day)


def counted(world: World) -> tuple[Ledger, CountingStore]:
    session = world.session
    store = CountingStore(session.store)
    return Ledger(store, session.trust, session.clock), store


def entries_read(store: CountingStore) -> int:
    return sum(key.endswith(".dsse.json") for key in store.reads)


def test_a_packed_ledger_is_read_in_a_few_objects_with_the_same_report(
    tmp_path: Path, s3_bucket: str
) -> None:
    world = s3_world(tmp_path, s3_bucket)
    grow(world, "alpha", 6)
    grow(world, "beta", 3)
    packed = world.session.ledger.pack(min_entries=1)
    assert packed is not None and (packed.packs_written, packed.entries_packed) == (2, 9)
    ledger, store = counted(world)
    through_packs = verify_ledger(ledger)
    assert through_packs.intact
    assert entries_read(store) == 0  # every entry came from its chain's pack
    assert [k for k in store.reads if k.startswith("packs/")] == sorted(
        world.session.store.list_keys("packs/")
    )
    store.reads.clear()
    assert verify_ledger(ledger, packs=False) == through_packs
    assert entries_read(store) == through_packs.entries


def test_tampering_after_packing_is_caught_as_without_packs(tmp_path: Path, s3_bucket: str) -> None:
    """The pack still holds the genuine entries; the store's own objects were altered or
    deleted since. Verification judges the store's objects, not the pack's copies."""
    world = tampered_after_packing(tmp_path, s3_bucket)
    ledger, store = counted(world)
    report = verify_ledger(ledger)
    assert found(report) == EXPECTED
    # The untouched entries still came from packs; the flipped one was read itself.
    assert entry_key("alpha", 1) in store.reads
    assert entries_read(store) < report.entries / 2
    assert report == verify_ledger(ledger, packs=False)


def tampered_after_packing(tmp_path: Path, bucket: str) -> World:
    world = s3_world(tmp_path, bucket)
    original = World.checkpoint

    def pack_before_tampering(self: World, day: float):  # type: ignore[no-untyped-def]
        written = original(self, day)
        self.session.ledger.pack(min_entries=1)
        return written

    World.checkpoint = pack_before_tampering  # type: ignore[method-assign]
    try:
        return tampered(world)
    finally:
        World.checkpoint = original  # type: ignore[method-assign]


def test_workers_read_through_packs_and_give_the_serial_report(
    tmp_path: Path, s3_bucket: str
) -> None:
    world = tampered_after_packing(tmp_path, s3_bucket)
    ledger = world.session.ledger
    serial = verify_ledger(ledger)
    parallel = verify_ledger(
        ledger, parallel=Parallelism(workers=2, chunk_entries=3, min_entries=0)
    )
    assert parallel == serial
    assert found(parallel) == EXPECTED


def test_a_forged_pack_member_is_not_believed(tmp_path: Path, s3_bucket: str) -> None:
    """Someone with write access puts a pack whose copy of an entry is a forgery: its MD5
    is not the stored entry's, so the stored entry is read and judged instead."""
    world = s3_world(tmp_path, s3_bucket)
    grow(world, "alpha", 2)
    session = world.session
    key = entry_key("alpha", 1)
    genuine = session.store.get(key)
    doc = json.loads(genuine)
    doc["signatures"][0]["sig"] = doc["signatures"][0]["sig"][::-1]
    forged = json.dumps(doc).encode()
    members = [(entry_key("alpha", 0), session.store.get(entry_key("alpha", 0))), (key, forged)]
    session.store.put_new(pack_key("alpha", 0, 1), encode_pack("alpha", members))
    ledger, store = counted(world)
    report = verify_ledger(ledger)
    assert report.intact, report.violations
    assert key in store.reads and entry_key("alpha", 0) not in store.reads


def test_a_pack_cannot_bring_back_a_deleted_entry(tmp_path: Path, s3_bucket: str) -> None:
    world = s3_world(tmp_path, s3_bucket)
    grow(world, "alpha", 4)
    world.session.ledger.pack(min_entries=1)
    delete_object(world.session, entry_key("alpha", 2))
    with_packs = verify_ledger(world.session.ledger)
    assert ("alpha", 3, "sequence-gap") in found(with_packs)
    assert with_packs == verify_ledger(world.session.ledger, packs=False)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json\n",
        b'{"format": "stagegate-pack/1", "members": [["k", 99]]}\nshort',
        b'{"format": "stagegate-pack/1", "members": [["k", -1]]}\n',
        b'{"format": "stagegate-pack/1", "members": "\xc3\xa9"}\n',
        b'{"format": "other", "members": []}\n',
        b"\xff\xfe\n\x00",
    ],
)
def test_a_pack_that_does_not_parse_is_read_around(
    tmp_path: Path, s3_bucket: str, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    world = s3_world(tmp_path, s3_bucket)
    grow(world, "alpha", 2)
    world.session.store.put_new(pack_key("alpha", 0, 1), garbage)
    caplog.set_level(logging.WARNING, "gates.ledger.packs")
    report = verify_ledger(world.session.ledger)
    assert report.intact, report.violations
    assert report == verify_ledger(world.session.ledger, packs=False)
    assert "is not a readable pack" in caplog.text


def test_read_objects_keeps_the_order_of_mixed_packed_and_loose_objects(
    tmp_path: Path, s3_bucket: str
) -> None:
    world = s3_world(tmp_path, s3_bucket)
    grow(world, "alpha", 4)
    store = world.session.store
    keyed = world.session.ledger.index("alpha").chains["alpha"]
    store.put_new(
        pack_key("alpha", 1, 2), encode_pack("alpha", [(k, store.get(k)) for _, k in keyed[1:3]])
    )
    index = world.session.ledger.index("alpha", packs=True)
    assert index.packs.covering("alpha", 1) == pack_key("alpha", 1, 2)
    positions = [("alpha", seq, key) for seq, key in keyed]
    assert list(read_objects(store, positions, index.packs)) == list(
        store.get_many(k for _, k in keyed)
    )
    assert list(read_objects(store, positions, PackIndex())) == list(
        store.get_many(k for _, k in keyed)
    )


def test_a_folder_store_has_no_packs(tmp_path: Path) -> None:
    world = ledger_world(tmp_path / "ws")
    assert world.session.ledger.pack() is None
    assert json.loads(run("audit", "pack", "--json", cwd=world.root).stdout) == {"supported": False}
    assert not world.session.ledger.index(packs=True).packs.checksums


def test_audit_pack_and_checkpoint_write_packs(tmp_path: Path, s3_bucket: str) -> None:
    world = s3_world(tmp_path, s3_bucket)
    grow(world, "alpha", 25)
    world.register("beta", 0)
    packed = json.loads(run("audit", "pack", "--json", cwd=world.root).stdout)
    assert packed == {"supported": True, "written": 1, "entries": 25, "chains_left_loose": 1}
    assert json.loads(run("audit", "pack", "--json", cwd=world.root).stdout)["written"] == 0
    for day in range(25, 49):
        world.record_recheck("alpha", day)
    written = json.loads(run("audit", "checkpoint", "--json", cwd=world.root).stdout)
    assert written["packs"]["written"] == 1 and written["packs"]["entries"] == 24
    assert [parse_pack_key(k) for k in world.session.store.list_keys("packs/")] == [
        ("alpha", 0, 24),
        ("alpha", 25, 48),
    ]


@pytest.mark.parametrize(
    "key",
    [
        "packs/alpha/000000000000-000000000009.pack.json",
        "packs/alpha/000000000009-000000000000.pack",
        "packs/alpha/00000000000٣-000000000009.pack",
        "packs/alpha/beta/000000000000-000000000009.pack",
        "packs/alpha/000000000000000000000009.pack",
        "chains/alpha/000000000000-000000000009.pack",
    ],
)
def test_keys_that_are_not_packs_are_ignored(key: str) -> None:
    assert parse_pack_key(key) is None


@given(st.text(alphabet='0123456789abcdefABCDEF"-g \n٣', max_size=36))
@example('"0123456789abcdef0123456789ABCDEF"')
@example("0123456789abcdef0123456789abcdef\n")
@example("0123456789abcdef0123456789abcde٣")
def test_only_an_etag_of_32_hex_digits_states_an_md5(etag: str) -> None:
    value = etag.strip('"').lower()
    hex_md5 = len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    assert md5_of_etag(etag) == (value if hex_md5 else None)


def test_a_store_that_reads_one_key_at_a_time_gets_whole_runs_from_packs() -> None:
    """A store whose get_many asks for the next key only after answering the last (as a
    folder or memory store does) still gets every member of a run from its pack."""
    import hashlib

    from gates.store.memory import MemoryStore

    store = MemoryStore()
    keyed = [(seq, f"chains/a/{seq:012d}.dsse.json") for seq in range(4)]
    for seq, key in keyed:
        store.put_new(key, f"entry {seq}".encode())
    members = [(key, store.get(key)) for _, key in keyed]
    store.put_new(pack_key("a", 0, 3), encode_pack("a", members))
    packs = PackIndex(
        {key: (len(data), hashlib.md5(data).hexdigest()) for key, data in members},
        {"a": [(0, 3, pack_key("a", 0, 3))]},
    )
    counting = CountingStore(store)
    read = list(read_objects(counting, [("a", seq, key) for seq, key in keyed], packs))
    assert read == members
    assert counting.reads == [pack_key("a", 0, 3)]
