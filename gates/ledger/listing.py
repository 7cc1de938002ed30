"""The ledger's listing streamed as whole chains, each handed on as soon as the listing
has moved past it, so verification starts on the first chains while the rest are listed.

The keys of one chain share the folder ``chains/<id>/``, and stores list a folder's
objects together: S3 lists by key (a prefix's keys are contiguous), SeaweedFS folder by
folder, a folder store is walked in key order. So a chain is complete when a key of
another chain appears. That is checked, never assumed: a chain's key coming after the
chain was handed on fails the listing (``ListingBrokeOff``), since that chain would be
verified short; the caller then lists again, whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from gates.errors import ListingBrokeOff
from gates.ledger.chain import LedgerIndex
from gates.ledger.entry import CHAINS_PREFIX, parse_entry_key
from gates.ledger.packs import PackIndex, md5_of_etag
from gates.ledger.timestamps import parse_token_key
from gates.store.interface import ObjectInfo, ObjectStore

__all__ = ["ChainListing", "ListedChain", "index_of", "listed_pages"]


def listed_pages(store: ObjectStore, prefix: str) -> Iterator[list[ObjectInfo]]:
    """The store's ``list_pages`` where it has one, else its whole listing as one page."""
    pages = getattr(store, "list_pages", None)
    if pages is None:
        yield store.list_objects(prefix)
    else:
        yield from pages(prefix)


@dataclass
class ListedChain:
    """One chain's part of the listing."""

    usecase: str
    #: (sequence, entry key), in sequence order.
    keyed: list[tuple[int, str]] = field(default_factory=list)
    #: Timestamp token keys per sequence number.
    tokens: dict[int, list[str]] = field(default_factory=dict)
    #: When the store received each entry, by its own clock.
    received: dict[str, datetime] = field(default_factory=dict)
    #: Entry and token key → (size, MD5 hex) where the listing states them.
    checksums: dict[str, tuple[int, str]] = field(default_factory=dict)


class ChainListing:
    """Iterate for the chains under ``chains/``, in listing order; once iterated,
    ``stray`` holds the keys there that are neither entries nor tokens."""

    def __init__(self, store: ObjectStore, *, received: bool, checksums: bool) -> None:
        self.store = store
        self.received = received
        self.checksums = checksums
        self.stray: list[str] = []
        #: Timestamp token keys listed, of every chain.
        self.tokens = 0

    def __iter__(self) -> Iterator[ListedChain]:
        current: ListedChain | None = None
        handed_on: set[str] = set()
        for page in listed_pages(self.store, CHAINS_PREFIX):
            for key, modified, etag, size in page:
                entry = parse_entry_key(key)
                token = parse_token_key(key) if entry is None else None
                usecase = entry[0] if entry else token[0] if token else None
                if usecase is None:
                    self.stray.append(key)
                    continue
                if current is None or current.usecase != usecase:
                    if usecase in handed_on:
                        raise ListingBrokeOff(
                            f"{self.store.uri}: the listing of {CHAINS_PREFIX} split the "
                            f"chain {usecase!r} ({key!r} came after other chains' keys)"
                        )
                    if current is not None:
                        handed_on.add(current.usecase)
                        yield _sorted(current)
                    current = ListedChain(usecase)
                if self.checksums:
                    md5 = md5_of_etag(etag)
                    if md5 is not None and size is not None:
                        current.checksums[key] = (size, md5)
                if entry is not None:
                    current.keyed.append((entry[1], key))
                    if self.received:
                        current.received[key] = modified
                elif token is not None:
                    self.tokens += 1
                    current.tokens.setdefault(token[1], []).append(key)
        if current is not None:
            yield _sorted(current)


def _sorted(chain: ListedChain) -> ListedChain:
    # Key order is sequence order only for sequences written with 12 digits.
    chain.keyed.sort()
    return chain


def index_of(
    chains: list[ListedChain], packs: dict[str, list[tuple[int, int, str]]]
) -> LedgerIndex:
    """The index ``Ledger.index`` would make of these chains and ``packs``: reading
    through packs only where the listing had checksums."""
    checksums = {key: listed for chain in chains for key, listed in chain.checksums.items()}
    return LedgerIndex(
        {chain.usecase: chain.keyed for chain in chains if chain.keyed},
        tokens={chain.usecase: chain.tokens for chain in chains if chain.tokens},
        received={key: at for chain in chains for key, at in chain.received.items()},
        packs=PackIndex(checksums, packs) if checksums else PackIndex(),
    )
