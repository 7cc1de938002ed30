"""One page, one read: the page's verification and its display share bytes and signature checks.

A page shows a verification banner (``verify_ledger``) and the entries themselves
(``Ledger.replay``). Both walk the same chain; done naively that is two fetches and two
Ed25519 verifications per entry, which is most of the cost of a page. ``page_ledger``
gives both walks a ledger whose store keeps what it fetched and whose keys remember
what they verified, for one page only: the second walk re-parses the very bytes the
first one verified and pays no second fetch or signature check. Nothing outlives the
page, so every page shows the store as it is when the page is built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from gates.errors import StoreError
from gates.ledger.chain import Ledger
from gates.signing.keys import PublicKey
from gates.signing.trust import TrustStore
from gates.store.interface import ObjectInfo, ObjectStore
from gates.workspace.session import Session

#: Bytes a page keeps from the store; past this it fetches again (memory stays bounded).
BYTES_BUDGET = 64 * 1024 * 1024
#: Signature results a page remembers per key.
SIGNATURES_BUDGET = 200_000


class ReadOnceStore:
    """A read-only view of a store that answers repeated reads from memory."""

    def __init__(self, inner: ObjectStore, budget: int = BYTES_BUDGET) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.modified_by = inner.modified_by
        self._blobs: dict[str, bytes] = {}
        self._listings: dict[str, list[str]] = {}
        self._timed_listings: dict[str, list[ObjectInfo]] = {}
        self._room = budget
        self.fetched = 0  # objects fetched from the inner store

    def _keep(self, key: str, blob: bytes) -> None:
        self.fetched += 1
        if len(blob) <= self._room:
            self._blobs[key] = blob
            self._room -= len(blob)

    def put_new(self, key: str, data: bytes) -> None:
        raise StoreError(f"{self.uri}: the report reads the ledger and never writes ({key})")

    def get(self, key: str) -> bytes:
        blob = self._blobs.get(key)
        if blob is None:
            blob = self.inner.get(key)
            self._keep(key, blob)
        return blob

    def exists(self, key: str) -> bool:
        return key in self._blobs or self.inner.exists(key)

    def list_keys(self, prefix: str) -> list[str]:
        if prefix in self._timed_listings:
            return [listed.key for listed in self._timed_listings[prefix]]
        if prefix not in self._listings:
            self._listings[prefix] = self.inner.list_keys(prefix)
        return list(self._listings[prefix])

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        if prefix not in self._timed_listings:
            self._timed_listings[prefix] = self.inner.list_objects(prefix)
        return list(self._timed_listings[prefix])

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        wanted = list(keys)
        missing = [k for k in wanted if k not in self._blobs]
        to_fetch = set(missing)
        fetched = self.inner.get_many(missing) if missing else iter(())
        for key in wanted:
            if key in to_fetch:
                got, blob = next(fetched)
                if got != key:  # the interface promises input order; never mix up entries
                    raise StoreError(f"{self.uri}: asked for {key!r}, store answered {got!r}")
                self._keep(key, blob)
            else:
                blob = self._blobs[key]
            yield key, blob


@dataclass(frozen=True)
class RememberingKey(PublicKey):
    """A public key that verifies each (signature, message) once and remembers the answer."""

    seen: dict[tuple[bytes, bytes], bool] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def verify(self, signature: bytes, message: bytes) -> bool:
        memo_key = (signature, hashlib.sha256(message).digest())
        answer = self.seen.get(memo_key)
        if answer is None:
            answer = super().verify(signature, message)
            if len(self.seen) < SIGNATURES_BUDGET:
                self.seen[memo_key] = answer
        return answer


def remembering(trust: TrustStore) -> TrustStore:
    """The same trusted keys, roles and revocations, each remembering what it verified."""
    return replace(
        trust,
        by_keyid={
            keyid: replace(signer, public=RememberingKey(signer.public.keyid, signer.public.raw))
            for keyid, signer in trust.by_keyid.items()
        },
    )


def page_ledger(session: Session, *, walks: int = 2) -> Ledger:
    """A ledger over the session's store and trust, for building one page.

    With the session's verified heads, entries whose bytes match a head verified before
    skip their signature checks (``gates.ledger.verified_heads``). ``walks``: how often
    the page reads its chains; a page reading them once has nothing to remember its
    signature checks for, and its keys verify without keeping a note of each.
    """
    return Ledger(
        ReadOnceStore(session.store),
        remembering(session.trust) if walks > 1 else session.trust,
        session.clock,
        heads=session.verified_heads,
    )
