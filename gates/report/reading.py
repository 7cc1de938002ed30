"""Reading the ledger for pages: once per page, verified, showing the store as it is now.

Verification and display read the store once and check each signature once per page
(``read_once``), so each page shows the ledger as it is when the page is built. With the
session's verified heads, entries verified before skip their signature checks
(``gates.ledger.verified_heads``). A long-running reader (the UI) also keeps a memo
(``Session.memo``): a page first reads the listing and every byte it depends on, hashes
them, and reuses what it built from exactly those bytes before; anything else is built
again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cached_property

from gates.canonical import canonical_json
from gates.ledger.chain import ChainReplay, Ledger
from gates.ledger.checkpoint import CHECKPOINTS_PREFIX
from gates.ledger.entry import CHAINS_PREFIX, Entry, open_entry, parse_entry_key
from gates.ledger.replay import ChainState
from gates.ledger.verified_heads import trust_fingerprint
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.report.gc_pause import collector_paused
from gates.report.models import GateMark, Lane, PageNotFound, StageSpan, is_usecase_id
from gates.report.read_once import page_ledger
from gates.roadmap.tracking import Milestone, milestones_of
from gates.workspace.session import Session


@dataclass(frozen=True)
class ChainRead:
    """One chain as the page read it."""

    usecase: str
    #: The replayed state. ``history`` holds the verified entries the page needs: all of
    #: them for a use-case page, the entry and the approvals it cites for an entry page,
    #: none for the index.
    state: ChainState
    #: (sequence, store key) of every entry found in the store, verified or not.
    keyed: tuple[tuple[int, str], ...]
    lane: Lane
    #: What the roadmap needs of the verified entries, kept when the entries are let go.
    milestones: tuple[Milestone, ...] = ()

    @cached_property
    def sequences(self) -> tuple[int, ...]:
        return tuple(seq for seq, _ in self.keyed)

    @cached_property
    def by_sequence(self) -> dict[int, Entry]:
        return {e.sequence: e for e in self.state.history}

    @cached_property
    def positions(self) -> dict[int, int]:
        return {seq: i for i, seq in enumerate(self.sequences)}

    def has_page(self, usecase: str, sequence: int) -> bool:
        """Whether entry ``sequence`` of ``usecase`` is in this chain's store (so has a page)."""
        return usecase == self.usecase and is_usecase_id(usecase) and sequence in self.positions


@dataclass(frozen=True)
class LedgerRead:
    report: VerificationReport
    chains: dict[str, ChainRead]

    def has_page(self, usecase: str, sequence: int) -> bool:
        """Whether the entry is in the store, so the report has a page for it."""
        chain = self.chains.get(usecase)
        return chain is not None and chain.has_page(usecase, sequence)


def _lane(usecase: str, history: tuple[Entry, ...]) -> Lane:
    spans: list[StageSpan] = []
    gates: list[GateMark] = []
    for entry in history:
        p = entry.predicate
        if not spans or spans[-1].stage != p.stage.after:
            if spans:
                spans[-1] = replace(spans[-1], end=p.time)
            spans.append(StageSpan(p.stage.after, p.time, None))
        if p.gate is not None:
            gates.append(
                GateMark(entry.sequence, p.time, p.gate.from_stage, p.gate.to_stage, p.gate.verdict)
            )
    return Lane(usecase, tuple(spans), tuple(gates))


def _chain_read(replayed: ChainReplay, keyed: list[tuple[int, str]], *, keep: bool) -> ChainRead:
    state = replayed.state
    return ChainRead(
        usecase=state.usecase,
        state=state if keep else replace(state, history=()),
        keyed=tuple(keyed),
        lane=_lane(state.usecase, state.history),
        milestones=milestones_of(state.history),
    )


def empty_chain(usecase_id: str) -> ChainRead:
    return ChainRead(usecase_id, ChainState(usecase=usecase_id), (), Lane(usecase_id, (), ()))


def _inputs(session: Session, ledger: Ledger, usecase_id: str | None) -> str | None:
    """A digest of everything a page's reading depends on, read from the store now:
    trust list, clock settings, the chains' listing with the store's times, every
    entry's and checkpoint's exact bytes. None without a memo to look it up in."""
    if session.memo is None:
        return None
    store = ledger.store
    clock = ledger.clock
    digest = hashlib.sha256(
        canonical_json(
            [store.uri, trust_fingerprint(ledger.trust), clock.simulated,
             str(clock.tolerance), usecase_id]
        )
    )  # fmt: skip
    listed = store.list_objects(f"{CHAINS_PREFIX}{usecase_id}/" if usecase_id else CHAINS_PREFIX)
    for info in listed:
        digest.update(f"{info.key}\0{info.modified.isoformat()}\0".encode())
    # The same bytes the reading goes on to use: the page's store keeps them.
    entries = (info.key for info in listed if parse_entry_key(info.key) is not None)
    checkpoints = store.list_keys(CHECKPOINTS_PREFIX)
    for key, raw in store.get_many([*entries, *checkpoints]):
        digest.update(f"{key}\0".encode() + hashlib.sha256(raw).digest())
    return digest.hexdigest()


def _remembered(session: Session, key: str | None, kind: type[object]) -> object | None:
    found = session.memo.get(key) if session.memo is not None and key else None
    return found if isinstance(found, kind) else None


def _remember(session: Session, key: str | None, value: object, weight: int = 1) -> None:
    """Keep ``value`` under ``key``; ``weight``: the entries it holds."""
    if session.memo is not None and key:
        session.memo.put(key, value, weight)


def read_ledger(session: Session) -> LedgerRead:
    """Verify the whole ledger; keep each chain's state and calendar (not its entries)."""
    ledger = page_ledger(session)
    inputs = _inputs(session, ledger, None)
    key = f"ledger:{inputs}" if inputs else None
    found = _remembered(session, key, LedgerRead)
    if isinstance(found, LedgerRead):
        return found
    report = verify_ledger(ledger)
    index = ledger.index()
    chains: dict[str, ChainRead] = {}
    # One chain's entries at a time: the calendar is drawn, then the entries are let go.
    # (The verification just recorded the heads: this pass checks no signature again.)
    for replayed in ledger.replay_all(index, keep_history=True):
        usecase = replayed.state.usecase
        chains[usecase] = _chain_read(replayed, index.chains.get(usecase, []), keep=False)
    read = LedgerRead(report, chains)
    _remember(session, key, read, 1 + len(chains))
    return read


def _verify_chain(
    session: Session, usecase_id: str
) -> tuple[Ledger, VerificationReport | None, str | None]:
    """The page's ledger, the chain's verification if remembered, and the digest of its
    inputs (when the session has a memo)."""
    if not is_usecase_id(usecase_id):
        raise PageNotFound(f"{usecase_id!r} is not a use-case id")
    # One walk: a use-case page keeps the entries its verification folds; an entry page
    # opens a few of them again against the head that walk has just recorded.
    ledger = page_ledger(session, walks=1)
    inputs = _inputs(session, ledger, usecase_id)
    found = _remembered(session, f"report:{inputs}" if inputs else None, VerificationReport)
    return ledger, found if isinstance(found, VerificationReport) else None, inputs


def read_chain(session: Session, usecase_id: str) -> tuple[VerificationReport, ChainRead]:
    """Verify one chain and keep its verified entries; PageNotFound for an unknown id."""
    ledger, report, inputs = _verify_chain(session, usecase_id)
    found = _remembered(session, f"chain:{inputs}" if inputs else None, ChainRead)
    if report is not None and isinstance(found, ChainRead):
        return report, found
    # One pass: the verification replays the chain keeping its entries, and the page
    # shows those.
    states: dict[str, ChainState] = {}
    with collector_paused():  # the entries kept are no garbage: see gates.report.gc_pause
        report = verify_ledger(ledger, [usecase_id], states=states)
    _remember(session, f"report:{inputs}" if inputs else None, report)
    keyed = ledger.entry_keys(usecase_id)
    if not keyed:
        if usecase_id not in session.workspace.usecases:
            raise PageNotFound(f"no use case {usecase_id!r} in the ledger or the workspace")
        return report, empty_chain(usecase_id)
    state = states.get(usecase_id, ChainState(usecase=usecase_id))
    chain = _chain_read(ChainReplay(state, ()), keyed, keep=True)
    _remember(session, f"chain:{inputs}" if inputs else None, chain, 1 + len(state.history))
    return report, chain


def read_entry(
    session: Session, usecase_id: str, sequence: int
) -> tuple[VerificationReport, ChainRead]:
    """Verify one chain; keep only the entry and the approvals it cites.

    The banner needs the whole chain verified, the page only a few entries: those are
    opened again from the bytes verification just read, against the head it recorded.
    """
    ledger, report, inputs = _verify_chain(session, usecase_id)
    if report is None:
        report = verify_ledger(ledger, [usecase_id])
        _remember(session, f"report:{inputs}" if inputs else None, report)
    keyed = ledger.entry_keys(usecase_id)
    keys = dict(keyed)
    if sequence not in keys:
        raise PageNotFound(f"no entry {sequence} in the chain of {usecase_id!r}")

    # Opened against the chain's verified head, if kept: the verification just made
    # (or an earlier one) spares their signature checks when the bytes match it.
    reader = ledger.heads.reader(ledger.trust, usecase_id) if ledger.heads else None

    def opened(seq: int) -> Entry | None:
        raw = ledger.store.get(keys[seq])
        if reader is not None:
            return reader.open(keys[seq], raw, seq)[0]
        return open_entry(keys[seq], raw, ledger.trust, usecase_id, seq)[0]

    entries: list[Entry] = []
    entry = opened(sequence)
    if entry is not None:
        entries.append(entry)
        cited = entry.predicate.gate.approvals if entry.predicate.gate else []
        entries.extend(e for seq in cited if seq in keys and (e := opened(seq)) is not None)
    state = ChainState(usecase=usecase_id, history=tuple(entries))
    return report, ChainRead(usecase_id, state, tuple(keyed), Lane(usecase_id, (), ()))
