"""Read and append one use case's chain in an object store.

Reading streams entries in sequence order and verifies each before it is folded into
the state. Appending signs a new statement and writes it create-only at the next
sequence number, so two concurrent writers can never fork or overwrite the chain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gates._version import __version__
from gates.canonical import canonical_json
from gates.clock import Clock
from gates.errors import EntryExistsError, LedgerError, WriteOutcomeUnknown
from gates.ledger.entry import (
    CHAINS_PREFIX,
    Entry,
    Violation,
    entry_key,
    open_entry,
    parse_entry_key,
)
from gates.ledger.packs import (
    MIN_PACK_ENTRIES,
    PackIndex,
    PackSummary,
    listed_packs,
    md5_of_etag,
    write_packs,
)
from gates.ledger.replay import ChainState, apply_entry
from gates.ledger.statement import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    EntryKind,
    Statement,
    usecase_subject,
)
from gates.ledger.timestamps import parse_token_key, token_key
from gates.signing.dsse import sign_envelope
from gates.signing.signers import Signer
from gates.signing.trust import TrustStore
from gates.stages import Stage
from gates.store.interface import ObjectInfo, ObjectStore

if TYPE_CHECKING:
    from gates.ledger.verified_heads import ChainReader, VerifiedHeads
    from gates.tsa.authority import Timestamping


#: The time of an object listed without times (never read: ``received`` was not asked).
_UNLISTED = datetime.min


@dataclass(frozen=True)
class ChainReplay:
    state: ChainState
    violations: tuple[Violation, ...]

    @property
    def intact(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class LedgerIndex:
    chains: dict[str, list[tuple[int, str]]]
    stray: tuple[str, ...] = ()
    #: Timestamp token keys per chain and sequence number (``timestamps.token_key``).
    tokens: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    #: When the store received each entry, by its own clock (listed only when asked for).
    received: dict[str, datetime] = field(default_factory=dict)
    #: The listing's checksums and the store's packs, for reading through packs (listed
    #: only when asked for, and only a store that lists checksums has any).
    packs: PackIndex = field(default_factory=PackIndex)


class Ledger:
    """The ledger of every use case in one store, read and verified with ``trust``."""

    def __init__(
        self,
        store: ObjectStore,
        trust: TrustStore,
        clock: Clock | None = None,
        timestamping: Timestamping | None = None,
        heads: VerifiedHeads | None = None,
    ) -> None:
        self.store = store
        self.trust = trust
        #: The writer's clock: what ``append`` stamps entries with (and whether a chosen
        #: time may be recorded at all); verification judges simulated entries by it.
        self.clock = clock or Clock()
        #: The RFC 3161 timestamp authority: writers get a token for every entry when it
        #: has a URL; verification checks tokens against its chain.
        self.timestamping = timestamping
        #: Chain heads verified before (``gates.ledger.verified_heads``): entries whose
        #: stored bytes match them skip their signature checks, nothing else. None (the
        #: default, and what ``audit verify`` uses) checks every signature.
        self.heads = heads

    def index(
        self, usecase_id: str | None = None, *, received: bool = False, packs: bool = False
    ) -> LedgerIndex:
        """One listing of the store: entry keys per chain, their timestamp tokens, and
        objects that are neither. ``received``: also when the store got each entry.
        ``packs``: also the listed checksums and the packs that may stand in for reads."""
        prefix = f"{CHAINS_PREFIX}{usecase_id}/" if usecase_id else CHAINS_PREFIX
        chains: dict[str, list[tuple[int, str]]] = {}
        tokens: dict[str, dict[int, list[str]]] = {}
        stray: list[str] = []
        times: dict[str, datetime] = {}
        listed: Iterable[ObjectInfo] = (
            self.store.list_objects(prefix)
            if received or packs
            else (ObjectInfo(key, _UNLISTED) for key in self.store.list_keys(prefix))
        )
        checksums: dict[str, tuple[int, str]] = {}
        for key, modified, etag, size in listed:
            md5 = md5_of_etag(etag) if packs and etag is not None else None
            if md5 is not None and size is not None:
                checksums[key] = (size, md5)
            parsed = parse_entry_key(key)
            if parsed is not None:
                if usecase_id is None or parsed[0] == usecase_id:
                    chains.setdefault(parsed[0], []).append((parsed[1], key))
                    if received:
                        times[key] = modified
                continue
            token = parse_token_key(key)
            if token is None:
                stray.append(key)
            elif usecase_id is None or token[0] == usecase_id:
                tokens.setdefault(token[0], {}).setdefault(token[1], []).append(key)
        # Only a store that lists checksums can read through packs: no listing of packs
        # for one that does not (a folder).
        pack_index = (
            PackIndex(checksums, listed_packs(self.store, usecase_id)) if checksums else PackIndex()
        )
        return LedgerIndex(
            {uc: sorted(keys) for uc, keys in sorted(chains.items())},
            tuple(stray),
            tokens,
            times,
            pack_index,
        )

    def pack(
        self, usecase_id: str | None = None, *, min_entries: int = MIN_PACK_ENTRIES
    ) -> PackSummary | None:
        """Pack every chain's (or one chain's) entries that no pack covers yet
        (``gates.ledger.packs``); None for a store whose listing has no checksums, where
        packs would never be read."""
        index = self.index(usecase_id, packs=True)
        if not index.packs.checksums:
            return None
        return write_packs(
            self.store, index.chains, index.tokens, index.packs.packs, min_entries=min_entries
        )

    def usecases(self) -> list[str]:
        return list(self.index().chains)

    def entry_keys(self, usecase_id: str) -> list[tuple[int, str]]:
        return self.index(usecase_id).chains.get(usecase_id, [])

    def entries(
        self, usecase_id: str, keyed: list[tuple[int, str]] | None = None
    ) -> Iterator[tuple[int, Entry | None, list[Violation]]]:
        """Stream (sequence, verified entry or None, violations) in sequence order."""
        for _uc, seq, entry, problems in self._stream(
            {usecase_id: keyed or self.entry_keys(usecase_id)}
        ):
            yield seq, entry, problems

    def _stream(
        self,
        chains: dict[str, list[tuple[int, str]]],
        readers: dict[str, ChainReader] | None = None,
    ) -> Iterator[tuple[str, int, Entry | None, list[Violation]]]:
        """One concurrent fetch across all chains, so read-ahead never stalls at a chain's end.

        With verified heads, each chain is opened by a reader (left in ``readers`` for the
        caller to finish once it knows whether the chain replayed clean).
        """
        where = {key: (uc, seq) for uc, keyed in chains.items() for seq, key in keyed}
        ordered = (key for keyed in chains.values() for _, key in keyed)
        readers = {} if readers is None else readers
        for key, raw in self.store.get_many(ordered):
            uc, seq = where[key]
            if self.heads is None:
                entry, problems = open_entry(key, raw, self.trust, uc, seq)
            else:
                reader = readers.get(uc)
                if reader is None:
                    reader = readers[uc] = self.heads.reader(self.trust, uc)
                entry, problems = reader.open(key, raw, seq)
            yield uc, seq, entry, problems

    @staticmethod
    def _finish(reader: ChainReader | None, replayed: ChainReplay) -> ChainReplay:
        if reader is not None:
            reader.finish(replayed.state.head_digest, clean=replayed.intact)
        return replayed

    def replay_all(
        self, index: LedgerIndex, *, keep_history: bool = False
    ) -> Iterator[ChainReplay]:
        """Replay every chain of ``index`` in one streamed pass (bounded memory)."""
        current: str | None = None
        state = ChainState(usecase="")
        violations: list[Violation] = []
        readers: dict[str, ChainReader] = {}
        for uc, seq, entry, problems in self._stream(index.chains, readers):
            if uc != current:
                if current is not None:
                    yield self._finish(readers.get(current), ChainReplay(state, tuple(violations)))
                current, state, violations = uc, ChainState(usecase=uc), []
            state = self._fold(state, seq, entry, problems, violations, keep_history)
        if current is not None:
            yield self._finish(readers.get(current), ChainReplay(state, tuple(violations)))

    def _fold(
        self,
        state: ChainState,
        seq: int,
        entry: Entry | None,
        problems: list[Violation],
        violations: list[Violation],
        keep_history: bool,
    ) -> ChainState:
        violations.extend(problems)
        if entry is None:
            # An unreadable entry still occupies its sequence number: keep counting so
            # later entries are judged against the right position.
            return replace(state, next_sequence=seq + 1)
        state, more = apply_entry(state, entry, self.trust, keep_history=keep_history)
        violations.extend(more)
        return state

    def read_entry(self, usecase_id: str, sequence: int) -> Entry:
        """One verified entry; LedgerError naming the violation otherwise."""
        key = entry_key(usecase_id, sequence)
        entry, problems = open_entry(key, self.store.get(key), self.trust, usecase_id, sequence)
        if entry is None or problems:
            raise LedgerError(f"{key}: {problems[0]}")
        return entry

    def replay(self, usecase_id: str, *, keep_history: bool = True) -> ChainReplay:
        """Fold the chain into its state, collecting every violation found on the way."""
        state = ChainState(usecase=usecase_id)
        violations: list[Violation] = []
        readers: dict[str, ChainReader] = {}
        for _uc, seq, entry, problems in self._stream(
            {usecase_id: self.entry_keys(usecase_id)}, readers
        ):
            state = self._fold(state, seq, entry, problems, violations, keep_history)
        return self._finish(readers.get(usecase_id), ChainReplay(state, tuple(violations)))

    def state(self, usecase_id: str) -> ChainState:
        """The verified state of a chain; LedgerError naming the first violation otherwise."""
        replayed = self.replay(usecase_id)
        if replayed.violations:
            first = replayed.violations[0]
            more = len(replayed.violations) - 1
            raise LedgerError(
                f"ledger of {usecase_id!r} fails verification: {first}"
                + (f" (and {more} more)" if more else ""),
                hint="run `stagegate audit verify` for the full report; nothing was written",
            )
        return replayed.state

    def append(
        self,
        state: ChainState,
        signer: Signer,
        *,
        kind: EntryKind,
        after: Stage,
        actor: str,
        time: datetime | None = None,
        records: dict[str, Any] | None = None,
    ) -> Entry:
        """Sign and write the next entry create-only; EntryExistsError if another writer won.

        ``time`` is recorded only where the ledger's clock allows it (``Clock.stamp``):
        on the system clock the entry carries the signer's own time.
        """
        time = self.clock.stamp(time, what=f"a {kind} entry of {state.usecase}")
        if state.last_time and time < state.last_time:
            raise LedgerError(
                f"{state.usecase}: clock {time.isoformat()} is behind the chain head "
                f"({state.last_time.isoformat()}); refusing to write a back-dated entry"
            )
        predicate: dict[str, Any] = {
            "useCase": state.usecase,
            "sequence": state.next_sequence,
            "previous": state.head_digest,
            "kind": kind,
            "time": time.isoformat().replace("+00:00", "Z"),
            "clock": self.clock.kind,
            "actor": actor,
            "tool": {"name": "stagegate", "version": __version__},
            "stage": {"before": state.stage.value if state.stage else None, "after": after.value},
            **(records or {}),
        }
        statement = {
            "_type": STATEMENT_TYPE,
            "subject": [usecase_subject(state.usecase).model_dump()],
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        }
        Statement.model_validate(statement)  # never sign something we could not read back
        payload = canonical_json(statement)
        raw = sign_envelope(payload, signer).to_json_bytes()
        key = entry_key(state.usecase, state.next_sequence)
        entry, problems = open_entry(key, raw, self.trust, state.usecase, state.next_sequence)
        if entry is None or problems:
            # Refuse to write what an auditor would reject (e.g. a key that is not trusted).
            raise LedgerError(
                f"{key}: refusing to write an entry that does not verify: {problems[0]}"
            )
        self._timestamp(state.usecase, state.next_sequence, raw, time, what=key)
        try:
            self.store.put_new(key, raw)
        except EntryExistsError:
            raise EntryExistsError(
                f"{state.usecase}: entry {state.next_sequence} was written by another writer first; "
                "nothing was written. Re-run to evaluate against the new chain head.",
            ) from None
        except WriteOutcomeUnknown as e:
            raise WriteOutcomeUnknown(
                f"{state.usecase}: the {kind} entry #{state.next_sequence} may have been "
                f"written. {e.message}",
                key=key,
                hint=f"check with `stagegate audit log {state.usecase}` once the store "
                f"answers: entry #{state.next_sequence} is there or not",
            ) from e
        return entry

    def _timestamp(
        self, usecase: str, sequence: int, raw: bytes, time: datetime, what: str
    ) -> None:
        """Store the TSA's token for ``raw`` before the entry itself (when a TSA is set).

        Token first: an entry is never stored without its token, and a token whose entry
        lost a race names bytes that were never stored, which proves nothing.
        """
        if self.timestamping is None or not self.timestamping.url:
            return
        tolerance = None if self.clock.simulated else self.clock.tolerance
        token = self.timestamping.stamp(raw, entry_time=time, tolerance=tolerance, what=what)
        # If these exact bytes were timestamped before, that token is as good.
        with contextlib.suppress(EntryExistsError):
            self.store.put_new(token_key(usecase, sequence, raw), token)
