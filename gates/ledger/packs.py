"""Packs: one object holding a run of a chain's stored objects, so reading a ledger from
S3 costs one GET per run instead of one per entry.

An S3 server answers a GET of a 2 KB entry in about as much time as it takes to verify
it several times over, so reading entry by entry caps verification far below what the
cores could do. A pack is a plain copy, never an authority: each member stands in for
the stored object of the same key only when its size and MD5 equal what the store's own
listing reports for that object (S3's ``ETag`` of a single-part upload). Anything else
(a member missing, different or surplus, an ETag that is not an MD5, a pack that does
not parse) is read from the object itself, so verification judges exactly the bytes
the store holds under each key, and a pack can make reading faster but never change
what is verified. Folder stores list no checksums and are always read object by object.

Format (``stagegate-pack/1``): one line of JSON, ``{"format": ..., "usecase": ...,
"members": [[key, size], ...]}``, then the members' bytes one after another.
Packs live at ``packs/<use case>/<first seq>-<last seq>.pack``, written create-only by
``write_packs`` (``stagegate audit pack``), covering a chain's entries and their
timestamp tokens.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from gates.errors import EntryExistsError
from gates.store.interface import ObjectStore

__all__ = [
    "PACKS_PREFIX",
    "PackIndex",
    "PackSummary",
    "pack_key",
    "parse_pack_key",
    "read_objects",
    "write_packs",
]

log = logging.getLogger(__name__)

PACKS_PREFIX = "packs/"
PACK_SUFFIX = ".pack"
FORMAT = "stagegate-pack/1"
#: Entries in one pack, at most: a worker's chunk reads whole packs.
PACK_ENTRIES = 1_000
#: A chain's unpacked entries are packed once there are at least this many: fewer cost
#: little to read one by one, and a pack of a few would itself be a GET.
MIN_PACK_ENTRIES = 20
#: An MD5 as lowercase hex (checked for every object listed).
_MD5_HEX = re.compile(r"[0-9a-f]{32}")


def pack_key(usecase_id: str, first: int, last: int) -> str:
    return f"{PACKS_PREFIX}{usecase_id}/{first:012d}-{last:012d}{PACK_SUFFIX}"


def parse_pack_key(key: str) -> tuple[str, int, int] | None:
    """``packs/<id>/<first>-<last>.pack`` → (id, first, last); None for anything else."""
    if not key.startswith(PACKS_PREFIX) or not key.endswith(PACK_SUFFIX):
        return None
    parts = key[len(PACKS_PREFIX) : -len(PACK_SUFFIX)].split("/")
    if len(parts) != 2:
        return None
    first, dash, last = parts[1].partition("-")
    if not dash or not all(len(s) == 12 and s.isascii() and s.isdigit() for s in (first, last)):
        return None
    if int(first) > int(last):
        return None
    return parts[0], int(first), int(last)


@dataclass(frozen=True)
class PackIndex:
    """What reading through packs needs from the store's listing."""

    #: Stored object key → (size, MD5 hex) as the listing reported them; only objects
    #: whose ETag is a plain MD5 (a single-part upload) are here.
    checksums: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Use case → its packs as (first sequence, last sequence, pack key), in order.
    packs: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.packs)

    def covering(self, usecase_id: str, sequence: int) -> str | None:
        """The key of a pack holding this sequence of the chain, if any."""
        for first, last, key in self.packs.get(usecase_id, ()):
            if first <= sequence <= last:
                return key
        return None

    def subset(self, usecases: Iterable[str], keys: Iterable[str]) -> PackIndex:
        """The part a worker needs for these chains and stored objects."""
        wanted = set(usecases)
        return PackIndex(
            {k: self.checksums[k] for k in keys if k in self.checksums},
            {uc: packs for uc, packs in self.packs.items() if uc in wanted},
        )


def md5_of_etag(etag: str | None) -> str | None:
    """The MD5 hex an S3 ``ETag`` states, or None where it is not one (multipart, SSE-KMS
    and other servers' ETags are opaque)."""
    if etag is None:
        return None
    value = etag.strip('"').lower()
    return value if _MD5_HEX.fullmatch(value) is not None else None


def read_objects(
    store: ObjectStore, positions: Iterable[tuple[str, int, str]], packs: PackIndex
) -> Iterator[tuple[str, bytes]]:
    """(key, stored bytes) for every (use case, sequence, key) of ``positions``, in order,
    like ``store.get_many``: members of a pack whose size and MD5 match the listing are
    taken from it, every other object is read itself."""
    if not packs:
        yield from store.get_many(key for _, _, key in positions)
        return
    # Units: a pack covering a run of consecutive positions, or one stored object. Both
    # are objects, fetched by one concurrent, ordered get_many. A pack is handed on only
    # once its run is complete, its run (None for a stored object) queued with it and
    # taken when its bytes arrive, however far ahead the store reads.
    runs: deque[list[str] | None] = deque()

    def units() -> Iterator[str]:
        pending: tuple[str, list[str]] | None = None  # the pack being gathered, its run
        for usecase_id, sequence, key in positions:
            pack = packs.covering(usecase_id, sequence) if key in packs.checksums else None
            if pending is not None and pending[0] == pack:
                pending[1].append(key)
                continue
            if pending is not None:
                runs.append(pending[1])
                yield pending[0]
                pending = None
            if pack is not None:
                pending = (pack, [key])
            else:
                runs.append(None)
                yield key
        if pending is not None:
            runs.append(pending[1])
            yield pending[0]

    for unit_key, raw in store.get_many(units()):
        run = runs.popleft()
        if run is None:
            yield unit_key, raw
            continue
        members = _members(unit_key, raw)
        for key in run:
            data = members.get(key)
            if data is None or not _matches(data, packs.checksums[key]):
                data = store.get(key)
            yield key, data


def _matches(data: bytes, listed: tuple[int, str]) -> bool:
    size, md5 = listed
    return len(data) == size and hashlib.md5(data, usedforsecurity=False).hexdigest() == md5


def _members(key: str, raw: bytes) -> dict[str, bytes]:
    """A pack's members by key; empty (and logged) for one that does not parse: its
    objects are then read one by one."""
    head, newline, body = raw.partition(b"\n")
    try:
        header = json.loads(head) if newline else None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} header")
        members: dict[str, bytes] = {}
        offset = 0
        for member in header["members"]:
            name, size = member
            if not isinstance(name, str) or not isinstance(size, int) or size < 0:
                raise ValueError("a member is not [key, size]")
            members[name] = body[offset : offset + size]
            offset += size
        if offset != len(body):
            raise ValueError(f"members add up to {offset} bytes, the pack holds {len(body)}")
        return members
    except (ValueError, TypeError, KeyError) as e:
        log.warning("%s is not a readable pack (%s): its objects are read one by one", key, e)
        return {}


def encode_pack(usecase_id: str, members: list[tuple[str, bytes]]) -> bytes:
    header = {"format": FORMAT, "usecase": usecase_id, "members": [[k, len(d)] for k, d in members]}
    return (
        json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"".join(d for _, d in members)
    )


@dataclass
class PackSummary:
    """What ``write_packs`` did."""

    packs_written: int = 0
    entries_packed: int = 0
    #: Chains whose unpacked entries were fewer than ``MIN_PACK_ENTRIES``.
    chains_left_loose: int = 0


def write_packs(
    store: ObjectStore,
    chains: dict[str, list[tuple[int, str]]],
    tokens: dict[str, dict[int, list[str]]],
    existing: dict[str, list[tuple[int, int, str]]],
    *,
    min_entries: int = MIN_PACK_ENTRIES,
    pack_entries: int = PACK_ENTRIES,
) -> PackSummary:
    """Pack each chain's entries (and their tokens) that no pack covers yet, in runs of
    at most ``pack_entries``, when at least ``min_entries`` are waiting. Create-only: a
    pack another writer made first is left as it is."""
    summary = PackSummary()
    for usecase_id, keyed in chains.items():
        covered = max((last for _, last, _ in existing.get(usecase_id, ())), default=-1)
        waiting = [(seq, key) for seq, key in keyed if seq > covered]
        if len(waiting) < min_entries:
            summary.chains_left_loose += bool(waiting)
            continue
        for start in range(0, len(waiting), pack_entries):
            run = waiting[start : start + pack_entries]
            keys = [k for seq, key in run for k in (key, *tokens.get(usecase_id, {}).get(seq, ()))]
            members = list(store.get_many(keys))
            try:
                store.put_new(
                    pack_key(usecase_id, run[0][0], run[-1][0]), encode_pack(usecase_id, members)
                )
            except EntryExistsError:
                continue
            summary.packs_written += 1
            summary.entries_packed += len(run)
    return summary


def listed_packs(
    store: ObjectStore, usecase_id: str | None = None
) -> dict[str, list[tuple[int, int, str]]]:
    """Every pack in the store (or of one chain), per use case, in sequence order."""
    prefix = f"{PACKS_PREFIX}{usecase_id}/" if usecase_id else PACKS_PREFIX
    packs: dict[str, list[tuple[int, int, str]]] = {}
    for key in store.list_keys(prefix):
        parsed = parse_pack_key(key)
        if parsed is not None:
            packs.setdefault(parsed[0], []).append((parsed[1], parsed[2], key))
    return {uc: sorted(runs) for uc, runs in sorted(packs.items())}
