"""Auditor verification of the whole ledger: signatures, links, gaps, binding, legality,
entry times against the store's clock and timestamp tokens, and that today's chains
extend every signed checkpoint.

Streams the ledger (bounded memory): checkpoints first, keeping only the distinct
(chain, size) → head claims they make; then every chain's entries in one concurrent
fetch (each followed by its timestamp tokens when a TSA is configured), comparing each
entry that a checkpoint recorded as a head as it passes by. Every violation is collected
instead of stopping at the first, so one report tells the auditor everything that is
wrong.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from gates.errors import LedgerError, ListingBrokeOff
from gates.ledger.chain import Ledger, LedgerIndex
from gates.ledger.checkpoint import (
    CHECKPOINTS,
    Checkpoint,
    CheckpointHistory,
    CheckpointRead,
    HeadClaim,
    read_checkpoints,
)
from gates.ledger.entry import CHAINS_PREFIX, Entry, Violation, open_entry
from gates.ledger.listing import ChainListing, ListedChain, index_of
from gates.ledger.packs import listed_packs, read_objects
from gates.ledger.replay import ChainState, apply_entry, evolve
from gates.ledger.time_evidence import SIMULATED_NOTE, TimeEvidence
from gates.ledger.timestamps import token_key
from gates.ledger.verified_heads import ChainReader

if TYPE_CHECKING:
    from gates.ledger.parallel_verify import Workers
    from gates.ledger.parallelism import Parallelism

log = logging.getLogger(__name__)

NO_CHECKPOINT_NOTE = (
    "no signed checkpoint: deleting a chain's newest entries cannot be detected; "
    "write one with `stagegate audit checkpoint`"
)


@dataclass(frozen=True)
class ChainSummary:
    usecase: str
    entries: int
    stage: str | None
    head: str | None


@dataclass(frozen=True)
class CheckpointSummary:
    """The newest sound checkpoint verification relied on."""

    sequence: int
    key: str
    time: datetime
    tree_size: int
    root: str
    digest: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CheckpointSummary:
        p = checkpoint.predicate
        return cls(p.sequence, checkpoint.key, p.time, p.tree_size, p.root, checkpoint.digest)

    def to_json(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "key": self.key,
            "time": self.time.isoformat(),
            "treeSize": self.tree_size,
            "root": self.root,
            "digest": self.digest,
        }


@dataclass(frozen=True)
class VerificationReport:
    chains: tuple[ChainSummary, ...]
    violations: tuple[Violation, ...] = field(default=())
    #: Sound checkpoints whose heads the chains were checked against.
    checkpoints: int = 0
    latest_checkpoint: CheckpointSummary | None = None
    #: Things the auditor should know that are not violations (e.g. no checkpoint yet).
    notes: tuple[str, ...] = ()
    #: The ledger holds entries written on a simulated clock: its timings are not evidence.
    simulated_clock: bool = False
    #: What entry times were checked against (``TimeEvidence.to_json``).
    time_evidence: dict[str, object] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.violations

    def __bool__(self) -> bool:
        return self.intact

    @property
    def entries(self) -> int:
        return sum(c.entries for c in self.chains)

    def to_json(self) -> dict[str, object]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "chains": [
                {"useCase": c.usecase, "entries": c.entries, "stage": c.stage, "head": c.head}
                for c in self.chains
            ],
            "violations": [v.to_json() for v in self.violations],
            "checkpoints": {
                "verified": self.checkpoints,
                "latest": self.latest_checkpoint.to_json() if self.latest_checkpoint else None,
            },
            "notes": list(self.notes),
            "simulatedClock": self.simulated_clock,
            "timeEvidence": self.time_evidence,
        }

    @property
    def simulated_note(self) -> str:
        """The line every view shows when the ledger ran on a simulated clock."""
        return SIMULATED_NOTE if self.simulated_clock else ""


def verify_ledger(
    ledger: Ledger,
    usecases: list[str] | None = None,
    *,
    checkpoints: Iterable[CheckpointRead] | None = None,
    pinned: Sequence[Checkpoint] = (),
    store_clock: bool = True,
    parallel: Parallelism | None = None,
    states: dict[str, ChainState] | None = None,
    packs: bool = True,
) -> VerificationReport:
    """Verify every chain (or the named ones) against every checkpoint.

    ``checkpoints``: where checkpoints come from; by default the ledger's own store
    (``read_checkpoints``). ``pinned``: checkpoints the auditor holds independently
    (from a bundle, or kept from an earlier audit); their heads count like the store's,
    and when checkpoints are read from the store each pinned one must still be there,
    byte for byte, so deleting the newest checkpoints is caught too. ``store_clock``:
    compare entry times with when the store received them (not for a bundle's copy).
    ``states``: when given, filled with each chain's replayed state, its verified entries
    kept in ``history`` (a page shows them without reading the chain a second time).
    The verifier's clock settings and TSA chain are the ledger's (``clock``,
    ``timestamping``). ``parallel``: spread the chains over processes or a Dask cluster
    (``parallel_verify``); the report is the same. ``packs``: read through the store's
    packs where their members match the listing's checksums (``gates.ledger.packs``);
    False reads every object itself.
    """
    args = (ledger, usecases, checkpoints, pinned, store_clock, parallel, states, packs)
    if (
        parallel is None
        or states is not None  # a page keeps its states: read here
        or not parallel.starts_before_reading(ledger.store.uri)
    ):
        return _verify(*args, None)
    from gates.ledger.parallel_verify import workers_started

    with workers_started(parallel, ledger) as started:
        return _verify(*args, started)


def _verify(
    ledger: Ledger,
    usecases: list[str] | None,
    checkpoints: Iterable[CheckpointRead] | None,
    pinned: Sequence[Checkpoint],
    store_clock: bool,
    parallel: Parallelism | None,
    states: dict[str, ChainState] | None,
    packs: bool,
    started: Workers | None,
) -> VerificationReport:
    tsa = ledger.timestamping.chain if ledger.timestamping is not None else None
    times = TimeEvidence(ledger.clock, ledger.store.modified_by if store_clock else None, tsa)
    # Checkpoints first: the chains listed after them are at least as long as they say,
    # and each chain's head claims are at hand when its entries are.
    history, checkpoint_violations = _history(ledger, usecases, checkpoints, pinned)

    chains: list[ChainSummary] = []
    keep_history = states is not None
    replayed: Iterable[tuple[ChainState, list[Violation]]] | None = None
    listed: dict[str, list[tuple[int, str]]] = {}
    if usecases is None and parallel is not None and not keep_history:
        try:
            replayed, stray, tokens = _replay_as_listed(
                ledger, history, times, parallel, started, store_clock, packs
            )
        except ListingBrokeOff as e:
            log.warning("%s: listing the ledger whole instead", e.message)
            # What the abandoned attempt counted is counted again below.
            times = TimeEvidence(times.clock, times.store_clock, tsa)
    if replayed is None:
        index = ledger.index(
            usecases[0] if usecases and len(usecases) == 1 else None,
            received=store_clock,
            packs=packs,
        )
        stray = list(index.stray) if usecases is None else []
        if usecases is not None:
            index = LedgerIndex(
                {uc: index.chains.get(uc, []) for uc in usecases},
                tokens={uc: index.tokens[uc] for uc in usecases if uc in index.tokens},
                received=index.received,
                packs=index.packs,
            )
        tokens = sum(len(keys) for per_seq in index.tokens.values() for keys in per_seq.values())
        listed = index.chains
        entries = sum(len(keyed) for keyed in listed.values())
        # A page keeps its states, and a small ledger is not worth workers: read in this
        # process (without loading the worker side).
        if parallel is None or keep_history or parallel.in_this_process(entries):
            replayed = replay_chains(ledger, index, history, times, keep_history)
        else:
            from gates.ledger.parallel_verify import replay_in_parallel

            replayed = replay_in_parallel(
                replay_chains, ledger, index, history, times, parallel, started
            )
    if tsa is None:
        times.tokens_unchecked = tokens
    violations: list[Violation] = [
        Violation(key[len(CHAINS_PREFIX) :].split("/")[0] or "?", None, "stray-object",
                  f"{key} is not a ledger entry key")
        for key in stray
    ]  # fmt: skip
    violations.extend(checkpoint_violations)
    present: set[str] = set()
    for state, problems in replayed:
        if states is not None:
            states[state.usecase] = state
        chains.append(ChainSummary(state.usecase, state.next_sequence,
                                   state.stage.value if state.stage else None, state.head_digest))  # fmt: skip
        violations.extend(problems)
        present.add(state.usecase)
    for usecase_id, keyed in listed.items():
        if not keyed:
            chains.append(ChainSummary(usecase_id, 0, None, None))
            violations.append(
                Violation(usecase_id, None, "chain-missing", "no entries found for this use case")
            )
    for usecase_id, claims in sorted(history.claims.items()):
        if usecase_id not in present:
            size, claim = max(claims.items())
            violations.append(
                Violation(
                    usecase_id,
                    None,
                    "checkpoint-chain-missing",
                    f"checkpoint {claim.checkpoint} recorded this chain with {size} entries "
                    f"(head {claim.head}); it is gone from the store",
                )
            )
    notes: list[str] = times.notes()
    if history.count == 0 and chains:
        notes.append(NO_CHECKPOINT_NOTE)
    latest = CheckpointSummary.of(history.latest) if history.latest else None
    return VerificationReport(
        tuple(chains),
        tuple(violations),
        history.count,
        latest,
        tuple(notes),
        simulated_clock=times.simulated,
        time_evidence=times.to_json(),
    )


def _replay_as_listed(
    ledger: Ledger,
    history: CheckpointHistory,
    times: TimeEvidence,
    parallel: Parallelism,
    started: Workers | None,
    store_clock: bool,
    packs: bool,
) -> tuple[list[tuple[ChainState, list[Violation]]], list[str], int]:
    """Every chain replayed and the stray keys, in the order ``Ledger.index`` gives
    (a store's listing need not be by key: SeaweedFS's is folder by folder); the
    timestamp tokens listed. The listing is read until it holds enough entries for
    workers (``Parallelism.in_this_process``), which then get each chain as the listing
    reaches it (``replay_listed``); a ledger that ends before is replayed here."""
    listing = ChainListing(ledger.store, received=store_clock, checksums=packs)
    pack_runs = listed_packs(ledger.store) if packs else {}
    chains = iter(listing)
    gathered: list[ListedChain] = []
    entries = 0
    while parallel.in_this_process(entries):
        chain = next(chains, None)
        if chain is None:
            # Too small for workers: without loading the worker side.
            index = index_of(gathered, pack_runs)
            replayed = list(replay_chains(ledger, index, history, times))
            break
        gathered.append(chain)
        entries += len(chain.keyed)
    else:
        from gates.ledger.parallel_verify import replay_listed

        listed = itertools.chain(gathered, chains)
        replayed = list(
            replay_listed(
                replay_chains, ledger, listed, pack_runs, history, times, parallel, started
            )
        )
    by_name = sorted(replayed, key=lambda chain: chain[0].usecase)
    return by_name, sorted(listing.stray), listing.tokens


def _history(
    ledger: Ledger,
    usecases: list[str] | None,
    checkpoints: Iterable[CheckpointRead] | None,
    pinned: Sequence[Checkpoint],
) -> tuple[CheckpointHistory, list[Violation]]:
    """The head claims of every sound checkpoint (the store's, or ``checkpoints``, and the
    pinned ones), with what is wrong with the checkpoints."""
    violations: list[Violation] = []
    history = CheckpointHistory(usecases=set(usecases) if usecases is not None else None)
    from_store = checkpoints is None
    stored: dict[int, str] = {}
    for read in read_checkpoints(ledger) if checkpoints is None else checkpoints:
        violations.extend(read.violations)
        if read.checkpoint is not None and read.sequence is not None:
            stored[read.sequence] = read.checkpoint.digest
        if read.sound and read.checkpoint is not None:
            violations.extend(history.add(read.checkpoint))
    for checkpoint in pinned:
        if from_store:
            violations.extend(_pinned_in_store(checkpoint, stored))
        violations.extend(history.add(checkpoint, in_order=False))
        if history.latest is None or checkpoint.sequence > history.latest.sequence:
            history.latest = checkpoint
    return history, violations


def _pinned_in_store(checkpoint: Checkpoint, stored: dict[int, str]) -> list[Violation]:
    seq = checkpoint.sequence
    if seq not in stored:
        newest = max(stored, default=None)
        return [
            Violation(
                CHECKPOINTS,
                seq,
                "checkpoint-missing",
                f"the pinned checkpoint {seq} is not in the store (newest there: "
                f"{'none' if newest is None else newest}): checkpoints were deleted",
            )
        ]
    if stored[seq] != checkpoint.digest:
        return [
            Violation(
                CHECKPOINTS,
                seq,
                "checkpoint-mismatch",
                f"the store's checkpoint {seq} is {stored[seq]}, the pinned one {checkpoint.digest}",
            )
        ]
    return []


def replay_chains(
    ledger: Ledger,
    index: LedgerIndex,
    history: CheckpointHistory,
    times: TimeEvidence,
    keep_history: bool = False,
) -> Iterator[tuple[ChainState, list[Violation]]]:
    """Fold every chain of ``index`` from one streamed, concurrent fetch across chains.

    Only ``history.claims`` is read: the heads checkpoints recorded for these chains.

    With a TSA chain to check against, each entry's timestamp tokens follow it in the
    stream, so a token is judged while its entry's bytes are at hand.
    """
    # get_many yields in input order, so positions are walked in step with it instead of
    # being looked up in a map of every key.
    with_tokens = times.tsa is not None

    def positions() -> Iterator[tuple[str, int, str, bool]]:
        for uc, keyed in index.chains.items():
            tokens = index.tokens.get(uc, {}) if with_tokens else {}
            for seq, key in keyed:
                yield uc, seq, key, False
                for token in tokens.get(seq, ()):
                    yield uc, seq, token, True

    walk = positions()
    ordered = ((uc, seq, key) for uc, seq, key, _ in positions())
    current: _ChainCheck | None = None
    for (key, raw), (uc, seq, expected, is_token) in zip(
        read_objects(ledger.store, ordered, index.packs), walk, strict=True
    ):
        if key != expected:
            raise LedgerError(f"{ledger.store.uri}: asked for {expected}, the store answered {key}")
        if current is None or current.state.usecase != uc:
            if current is not None:
                yield current.finish()
            current = _ChainCheck(ChainState(usecase=uc), history.claims.get(uc, {}), ledger, times)
            current.keep_history = keep_history
            if ledger.heads is not None:
                current.reader = ledger.heads.reader(ledger.trust, uc)
        if is_token:
            current.token(key, raw, seq)
        else:
            current.fold(key, raw, seq, index.received.get(key))
    if current is not None:
        yield current.finish()


@dataclass
class _ChainCheck:
    """One chain being replayed, with the checkpoint heads it has to match."""

    state: ChainState
    claims: dict[int, HeadClaim]
    ledger: Ledger
    times: TimeEvidence
    violations: list[Violation] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    #: The entry whose tokens may follow in the stream: (sequence, entry, its exact
    #: bytes, whether its own token has been seen). Only kept while tokens are checked.
    awaiting: tuple[int, Entry | None, bytes, bool] | None = None
    #: Opens entries against the chain's verified head, when the ledger keeps heads.
    reader: ChainReader | None = None
    keep_history: bool = False
    #: The entries folded, when their history is kept: gathered here and set on the
    #: state once at the end (growing the state's tuple entry by entry copies it each time).
    kept: list[Entry] = field(default_factory=list)

    def fold(self, key: str, raw: bytes, seq: int, received: datetime | None = None) -> None:
        self._close_tokens()
        uc = self.state.usecase
        if self.reader is not None:
            entry, problems = self.reader.open(key, raw, seq)
        else:
            entry, problems = open_entry(key, raw, self.ledger.trust, uc, seq)
        self.violations.extend(problems)
        if self.times.tsa is not None:
            self.awaiting = (seq, entry, raw, False)
        claim = self.claims.get(seq + 1)
        if claim is not None:
            self.seen.add(seq + 1)
            if entry is not None and entry.digest != claim.head:
                self.violations.append(
                    Violation(
                        uc,
                        seq,
                        "checkpoint-head-mismatch",
                        f"checkpoint {claim.checkpoint} recorded entry {seq} as the head "
                        f"{claim.head}; it is now {entry.digest}: history was rewritten",
                    )
                )
        if entry is None:
            # An unreadable entry still occupies its sequence number: keep counting so
            # later entries are judged against the right position.
            self.state = evolve(self.state, next_sequence=seq + 1)
            return
        self.violations.extend(self.times.judge(uc, seq, entry, received))
        self.state, more = apply_entry(
            self.state, entry, self.ledger.trust, keep_history=False, position=seq
        )
        if self.keep_history:
            self.kept.append(entry)
        self.violations.extend(more)

    def token(self, key: str, raw: bytes, seq: int) -> None:
        """A token stored for entry ``seq``: judged if it names that entry's bytes.

        Tokens named for other bytes are what a writer that lost the race for this
        sequence number left behind: they timestamp nothing that was stored.
        """
        if self.awaiting is None or self.awaiting[0] != seq:
            return
        _, entry, envelope, _ = self.awaiting
        if key != token_key(self.state.usecase, seq, envelope):
            return
        self.awaiting = (seq, entry, envelope, True)
        self.violations.extend(self.times.token(self.state.usecase, seq, entry, envelope, key, raw))

    def _close_tokens(self) -> None:
        if self.awaiting is not None and not self.awaiting[3]:
            self.violations.append(
                self.times.missing(self.state.usecase, self.awaiting[0], self.awaiting[2])
            )
        self.awaiting = None

    def finish(self) -> tuple[ChainState, list[Violation]]:
        self._close_tokens()
        uc, size = self.state.usecase, self.state.next_sequence
        longer = [(s, c) for s, c in self.claims.items() if s > size]
        if longer:
            claimed, claim = max(longer)
            self.violations.append(
                Violation(
                    uc,
                    claimed - 1,
                    "checkpoint-truncated",
                    f"checkpoint {claim.checkpoint} recorded {claimed} entries ending in "
                    f"{claim.head}; the chain now ends at entry {size - 1}: its newest "
                    "entries were deleted or it was rolled back",
                )
            )
        for claimed, claim in sorted(self.claims.items()):
            if claimed <= size and claimed not in self.seen:
                self.violations.append(
                    Violation(
                        uc,
                        claimed - 1,
                        "checkpoint-head-mismatch",
                        f"entry {claimed - 1}, recorded by checkpoint {claim.checkpoint} as the "
                        f"head {claim.head}, is missing",
                    )
                )
        if self.reader is not None:
            self.reader.finish(self.state.head_digest, clean=not self.violations)
        if self.keep_history:
            self.state = evolve(self.state, history=tuple(self.kept))
        return self.state, self.violations
