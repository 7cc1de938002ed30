"""The ledger's listing streamed chain by chain (``gates.ledger.listing``): each chain
handed on whole, in the store's order, and a listing that splits a chain refused rather
than verified short."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gates.errors import ListingBrokeOff
from gates.ledger.chain import Ledger
from gates.ledger.checkpoint import CheckpointHistory
from gates.ledger.listing import ChainListing, ListedChain
from gates.ledger.parallel_verify import Parallelism, _chunks, _growing_sizes
from gates.ledger.verify import verify_ledger
from gates.store.interface import ObjectInfo
from gates.store.memory import MemoryStore
from tests.support.presets import SPEC, ledger_world
from tests.support.world import World


def churn_world(root: Path) -> World:
    """churn and churn-v2 beside alpha: a folder or S3 lists ``chains/churn-v2/`` before
    ``chains/churn/`` ("-" sorts before "/"), the opposite of the names' order."""
    world = ledger_world(root)
    for usecase in ("churn", "churn-v2"):
        world.add_usecase(usecase, SPEC.format(id=usecase, title=usecase.title()))
    for usecase in ("alpha", "churn", "churn-v2"):
        world.register(usecase, 0)
        world.approve(usecase, "sponsor", 1)
    world.session.store.put_new("chains/notes.txt", b"not an entry")
    world.session.store.put_new("chains/churn/readme", b"not an entry either")
    return world


def test_a_listing_hands_on_each_chain_whole_in_the_stores_order(tmp_path: Path) -> None:
    ledger = churn_world(tmp_path / "ws").session.ledger
    index = ledger.index(received=True)
    listing = ChainListing(ledger.store, received=True, checksums=False)
    chains = list(listing)
    assert [c.usecase for c in chains] == ["alpha", "churn-v2", "churn"]
    assert {c.usecase: c.keyed for c in chains} == index.chains
    assert {k: t for c in chains for k, t in c.received.items()} == index.received
    assert sorted(listing.stray) == sorted(index.stray) == ["chains/churn/readme", "chains/notes.txt"]  # fmt: skip


class InterleavedStore(MemoryStore):
    """Stands in for a server that lists in no useful order (none that runs here does):
    the first entry of every chain, then the second of every chain, and so on."""

    def list_pages(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        listed = self.list_objects(prefix)
        yield sorted(listed, key=lambda info: (info.key.rsplit("/", 1)[-1], info.key))


def test_a_listing_that_splits_a_chain_is_refused_and_verification_lists_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = churn_world(tmp_path / "ws").session
    store = InterleavedStore()
    for key in source.store.list_keys(""):
        store.put_new(key, source.store.get(key))
    with pytest.raises(ListingBrokeOff, match="split the chain"):
        list(ChainListing(store, received=True, checksums=False))

    ledger = Ledger(store, source.trust, source.clock)
    serial = verify_ledger(ledger)
    assert serial.entries == 6 and len(serial.violations) == 2  # the two strays
    assert verify_ledger(ledger, parallel=Parallelism(workers=2, min_entries=0)) == serial
    assert "listing the ledger whole instead" in caplog.text


def test_the_first_chunk_goes_out_before_the_listing_ends(tmp_path: Path) -> None:
    ledger = churn_world(tmp_path / "ws").session.ledger
    handed_on: list[str] = []

    def listing() -> Iterator[ListedChain]:
        for chain in ChainListing(ledger.store, received=False, checksums=False):
            handed_on.append(chain.usecase)
            yield chain

    sizes = _growing_sizes(Parallelism(workers=2, chunk_entries=8))
    chunks = _chunks(listing(), CheckpointHistory(), {}, sizes)
    first = next(chunks)
    assert list(first.chains) == ["alpha"] and handed_on == ["alpha"]
    assert [list(chunk.chains) for chunk in chunks] == [["churn-v2", "churn"]]
