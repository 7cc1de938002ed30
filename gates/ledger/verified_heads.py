"""Verified chain heads: what earlier verifications proved, kept as digests only.

A chain verified intact up to its head stays verified for as long as the same bytes are
stored and the same keys are trusted. ``VerifiedHeads`` keeps, per chain, the head's
payload digest, the chain's size and the SHA-256 of every entry's exact stored bytes,
under a fingerprint of the trust list. A reader then checks each entry as usual except
for its Ed25519 signatures (most of the cost), which it skips only when the bytes it has
just read hash to the digest recorded at that position. Everything else — parsing,
subject binding, signer roles and revocations, links, stage rules, times, checkpoints —
runs again on what the store holds now. Hence:

- an old entry rewritten in the store no longer matches its digest: its signatures are
  checked again and the rewrite is reported exactly as without the cache;
- the heads never hold entries, states or verdicts, only digests: they can make a
  verification cheaper, never change its outcome;
- any change to the trust list (a key, a name, a role, a revocation) changes the
  fingerprint, and heads recorded under another fingerprint are never used.

Heads live in process memory (``HeadsMemory``, the UI) or in a file (``HeadsFile``, the
command line) bound by an HMAC under a per-user secret: a forged or edited file is
discarded, so whoever can write it can at worst cost a full re-verification.

A signed checkpoint can stand in for the heads (``heads_from_checkpoint``): there the
entries it covers are trusted as the checkpoint recorded them. Their signatures are not
checked, but their links are, back from the head the checkpoint signed, so a rewritten
payload still breaks the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gates.canonical import canonical_json, digest_of
from gates.ledger.entry import Entry, Violation, open_entry
from gates.signing.trust import TrustStore

#: Where the command line keeps its heads: ``$STAGEGATE_CACHE_DIR`` (empty: keep none),
#: else ``$XDG_CACHE_HOME/stagegate``, else ``~/.cache/stagegate``.
CACHE_DIR_ENV = "STAGEGATE_CACHE_DIR"
FILE_FORMAT = "stagegate-verified-heads/v1"
SECRET_SIZE = 32
_DIGEST_SIZE = 32


def trust_fingerprint(trust: TrustStore) -> str:
    """A digest of everything the trust list says: key ids, names, roles, revocations."""
    return digest_of(
        [
            {"keyid": keyid, "name": s.name, "roles": sorted(s.roles), "revoked": s.revoked}
            for keyid, s in sorted(trust.by_keyid.items())
        ]
    )


@dataclass(frozen=True)
class VerifiedHead:
    """A chain's first ``size`` entries, ending in payload digest ``head``, verified."""

    size: int
    head: str
    #: SHA-256 of each entry's exact stored bytes, in sequence order. None when a signed
    #: checkpoint vouches for the entries instead (their links then prove them).
    stored: tuple[bytes, ...] | None

    def covers(self, sequence: int, digest: bytes) -> bool:
        """Whether the entry read at ``sequence`` with bytes hashing to ``digest`` is known."""
        if sequence >= self.size:
            return False
        return self.stored is None or hmac.compare_digest(self.stored[sequence], digest)


class VerifiedHeads:
    """The verified heads of every chain of one store, under one trust fingerprint.

    Safe to share between threads (the UI's requests). ``signatures_checked`` and
    ``signatures_skipped`` count entries, so what the heads saved can be seen.
    """

    def __init__(
        self,
        fingerprint: str,
        heads: dict[str, VerifiedHead] | None = None,
        *,
        store_uri: str = "",
        discarded: str | None = None,
    ) -> None:
        self.fingerprint = fingerprint
        #: The store the heads are about (what ``HeadsFile.save`` files them under).
        self.store_uri = store_uri
        self._heads = dict(heads or {})
        self._lock = threading.Lock()
        #: Why heads kept earlier were not used (a changed trust list, a bad MAC...), if so.
        self.discarded = discarded
        self.changed = False
        self.signatures_checked = 0
        self.signatures_skipped = 0

    def head(self, usecase: str) -> VerifiedHead | None:
        return self._heads.get(usecase)

    def heads(self) -> dict[str, VerifiedHead]:
        with self._lock:
            return dict(self._heads)

    def record(self, usecase: str, head: VerifiedHead) -> None:
        with self._lock:
            if self._heads.get(usecase) != head:
                self._heads[usecase] = head
                self.changed = True

    def reader(self, trust: TrustStore, usecase: str) -> ChainReader:
        """Open one chain's entries against its verified head, ``trust`` being the one
        the heads were recorded under (a different trust list is refused)."""
        if trust_fingerprint(trust) != self.fingerprint:
            # Never reuse heads across trust lists, even when a caller mixes them up.
            return ChainReader(VerifiedHeads(trust_fingerprint(trust)), trust, usecase)
        return ChainReader(self, trust, usecase)

    def count(self, *, skipped: bool) -> None:
        with self._lock:
            if skipped:
                self.signatures_skipped += 1
            else:
                self.signatures_checked += 1


class ChainReader:
    """One chain being read in sequence order: opens each entry, then records the new head.

    A head is recorded only for a chain read from entry 0 without a gap, whose every
    entry opened with no violation and had every trusted signature on it valid (so that
    skipping the checks later yields the same signers), and which the caller found clean.
    """

    def __init__(self, heads: VerifiedHeads, trust: TrustStore, usecase: str) -> None:
        self.heads = heads
        self.trust = trust
        self.usecase = usecase
        self.known = heads.head(usecase)
        self._stored: list[bytes] = []
        self._recordable = True

    def open(self, key: str, raw: bytes, sequence: int) -> tuple[Entry | None, list[Violation]]:
        digest = hashlib.sha256(raw).digest()
        known = self.known is not None and self.known.covers(sequence, digest)
        entry, problems = open_entry(
            key, raw, self.trust, self.usecase, sequence, signatures_known=known
        )
        self.heads.count(skipped=known)
        if (
            sequence != len(self._stored)
            or entry is None
            or problems
            or (known and self.known is not None and self.known.stored is None)
            or entry.signer_keyids != _trusted_signatures(entry, self.trust)
        ):
            self._recordable = False
        self._stored.append(digest)
        return entry, problems

    def finish(self, head: str | None, *, clean: bool) -> None:
        """The chain has been read to its end; ``head`` is the replayed head digest."""
        if clean and self._recordable and head is not None and self._stored:
            self.heads.record(
                self.usecase, VerifiedHead(len(self._stored), head, tuple(self._stored))
            )


def _trusted_signatures(entry: Entry, trust: TrustStore) -> frozenset[str]:
    return frozenset(s.keyid for s in entry.envelope.signatures if s.keyid in trust.by_keyid)


def heads_from_checkpoint(
    heads: Iterable[tuple[str, int, str]], trust: TrustStore
) -> VerifiedHeads:
    """The (use case, size, head) a sound, signed checkpoint recorded, standing in for a
    verification of the entries they cover."""
    return VerifiedHeads(
        trust_fingerprint(trust),
        {usecase: VerifiedHead(size, head, None) for usecase, size, head in heads},
    )


class HeadsKeeper(Protocol):
    """Where verified heads are kept between readings of one store."""

    def heads(self, trust: TrustStore, store_uri: str) -> VerifiedHeads: ...

    def save(self, heads: VerifiedHeads) -> None: ...


class HeadsMemory:
    """Heads kept in this process only, per store and trust list (the UI's)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], VerifiedHeads] = {}
        self._lock = threading.Lock()

    def heads(self, trust: TrustStore, store_uri: str) -> VerifiedHeads:
        fingerprint = trust_fingerprint(trust)
        with self._lock:
            return self._kept.setdefault(
                (store_uri, fingerprint), VerifiedHeads(fingerprint, store_uri=store_uri)
            )

    def save(self, heads: VerifiedHeads) -> None:
        """Nothing to write: the heads are already where the next reader looks."""


def default_cache_dir() -> Path | None:
    """The folder for ``HeadsFile`` (see ``CACHE_DIR_ENV``); None when turned off."""
    chosen = os.environ.get(CACHE_DIR_ENV)
    if chosen is not None:
        return Path(chosen).expanduser() if chosen else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "stagegate"
    try:
        return Path.home() / ".cache" / "stagegate"
    except (KeyError, RuntimeError):  # no home to speak of: keep no heads
        return None


class HeadsFile:
    """Heads kept between commands: one file per store, bound by an HMAC-SHA256 under a
    per-user secret (``secret``, mode 0600, beside it).

    The file is never believed on its own word: its MAC is checked over its exact bytes
    before they are parsed, and without the secret, or with a MAC, format, store or trust
    list that does not match, it is discarded (the reason is in
    ``VerifiedHeads.discarded``) and the chains are verified in full. Failing to write
    it only costs the next command its speed-up.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.secret_path = folder / "secret"

    def path(self, store_uri: str) -> Path:
        name = hashlib.sha256(store_uri.encode("utf-8")).hexdigest()[:32]
        return self.folder / "verified-heads" / f"{name}.json"

    def heads(self, trust: TrustStore, store_uri: str) -> VerifiedHeads:
        fingerprint = trust_fingerprint(trust)
        loaded, why = self._load(self.path(store_uri), store_uri, fingerprint)
        return VerifiedHeads(fingerprint, loaded, store_uri=store_uri, discarded=why)

    def _load(
        self, path: Path, store_uri: str, fingerprint: str
    ) -> tuple[dict[str, VerifiedHead], str | None]:
        """The heads in ``path``: its MAC checked over the exact bytes first, then parsed."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}, None
        except OSError as e:
            return {}, f"{path}: unreadable ({e.strerror or e})"
        secret = self._secret(create=False)
        if secret is None:
            return {}, f"{path}: no usable secret at {self.secret_path} to check it with"
        mac, _, body = raw.partition(b"\n")
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
        if not hmac.compare_digest(mac, expected):
            return {}, f"{path}: its MAC does not match (edited, or written under another secret)"
        try:
            doc = json.loads(body)
            if doc.get("format") != FILE_FORMAT or doc.get("store") != store_uri:
                return {}, f"{path}: written for another store or format"
            if doc.get("trust") != fingerprint:
                return {}, f"{path}: written under another trust list"
            return {uc: _head_of(item) for uc, item in doc["heads"].items()}, None
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return {}, f"{path}: malformed heads"

    def save(self, heads: VerifiedHeads) -> None:
        """Write the heads if they changed: the MAC of the body on the first line, then
        the body (canonical JSON). Written whole, then renamed over the old file."""
        if not heads.changed or not heads.store_uri:
            return
        store_uri = heads.store_uri
        body = canonical_json(
            {
                "format": FILE_FORMAT,
                "store": store_uri,
                "trust": heads.fingerprint,
                "heads": {
                    uc: {"size": h.size, "head": h.head, "stored": b"".join(h.stored).hex()}
                    for uc, h in sorted(heads.heads().items())
                    if h.stored is not None
                },
            }
        )
        path = self.path(store_uri)
        try:
            secret = self._secret(create=True)
            if secret is None:
                return
            mac = hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
            tmp.write_bytes(mac + b"\n" + body)
            os.replace(tmp, path)
        except OSError:
            return  # a cache that cannot be written costs speed, never correctness
        heads.changed = False

    def _secret(self, *, create: bool) -> bytes | None:
        try:
            secret = self.secret_path.read_bytes()
        except FileNotFoundError:
            secret = b""
        except OSError:
            return None  # there but unreadable: neither trusted nor replaced
        if len(secret) == SECRET_SIZE:
            return secret
        if not create:
            return None
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = secrets.token_bytes(SECRET_SIZE)
        tmp = self.folder / f".secret.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, fresh)
        finally:
            os.close(fd)
        os.replace(tmp, self.secret_path)
        return fresh


def _head_of(item: dict[str, object]) -> VerifiedHead:
    size, head, stored = item["size"], item["head"], item["stored"]
    if not isinstance(size, int) or size < 1 or not isinstance(head, str):
        raise ValueError("size and head")
    if not isinstance(stored, str) or len(stored) != 2 * _DIGEST_SIZE * size:
        raise ValueError("stored digests")
    blob = bytes.fromhex(stored)
    return VerifiedHead(
        size,
        head,
        tuple(blob[i : i + _DIGEST_SIZE] for i in range(0, len(blob), _DIGEST_SIZE)),
    )
