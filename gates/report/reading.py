"""Reading the ledger for pages: once per page, verified, nothing kept between pages.

Verification and display read the store once and check each signature once per page
(``read_once``), so each page shows the ledger as it is when the page is built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from gates.ledger.chain import ChainReplay, Ledger
from gates.ledger.entry import Entry, open_entry
from gates.ledger.replay import ChainState
from gates.ledger.verify import VerificationReport, verify_ledger
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


def read_ledger(session: Session) -> LedgerRead:
    """Verify the whole ledger; keep each chain's state and calendar (not its entries)."""
    ledger = page_ledger(session)
    report = verify_ledger(ledger)
    index = ledger.index()
    chains: dict[str, ChainRead] = {}
    # One chain's entries at a time: the calendar is drawn, then the entries are let go.
    for replayed in ledger.replay_all(index, keep_history=True):
        usecase = replayed.state.usecase
        chains[usecase] = _chain_read(replayed, index.chains.get(usecase, []), keep=False)
    return LedgerRead(report, chains)


def _verify_chain(session: Session, usecase_id: str) -> tuple[Ledger, VerificationReport]:
    if not is_usecase_id(usecase_id):
        raise PageNotFound(f"{usecase_id!r} is not a use-case id")
    ledger = page_ledger(session)
    return ledger, verify_ledger(ledger, [usecase_id])


def read_chain(session: Session, usecase_id: str) -> tuple[VerificationReport, ChainRead]:
    """Verify one chain and keep its verified entries; PageNotFound for an unknown id."""
    ledger, report = _verify_chain(session, usecase_id)
    keyed = ledger.entry_keys(usecase_id)
    if not keyed:
        if usecase_id not in session.workspace.usecases:
            raise PageNotFound(f"no use case {usecase_id!r} in the ledger or the workspace")
        return report, empty_chain(usecase_id)
    replayed = ledger.replay(usecase_id, keep_history=True)
    return report, _chain_read(replayed, keyed, keep=True)


def read_entry(
    session: Session, usecase_id: str, sequence: int
) -> tuple[VerificationReport, ChainRead]:
    """Verify one chain; keep only the entry and the approvals it cites.

    The banner needs the whole chain verified, the page only a few entries: those are
    opened again from the bytes and signature checks verification just made.
    """
    ledger, report = _verify_chain(session, usecase_id)
    keyed = ledger.entry_keys(usecase_id)
    keys = dict(keyed)
    if sequence not in keys:
        raise PageNotFound(f"no entry {sequence} in the chain of {usecase_id!r}")

    def opened(seq: int) -> Entry | None:
        raw = ledger.store.get(keys[seq])
        return open_entry(keys[seq], raw, ledger.trust, usecase_id, seq)[0]

    entries: list[Entry] = []
    entry = opened(sequence)
    if entry is not None:
        entries.append(entry)
        cited = entry.predicate.gate.approvals if entry.predicate.gate else []
        entries.extend(e for seq in cited if seq in keys and (e := opened(seq)) is not None)
    state = ChainState(usecase=usecase_id, history=tuple(entries))
    return report, ChainRead(usecase_id, state, tuple(keyed), Lane(usecase_id, (), ()))
