"""Auditor verification of the whole ledger: signatures, links, gaps, binding, legality.

Streams each chain (bounded memory) and collects every violation instead of stopping
at the first, so one report tells the auditor everything that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gates.ledger.chain import Ledger
from gates.ledger.entry import CHAINS_PREFIX, Violation, parse_entry_key


@dataclass(frozen=True)
class ChainSummary:
    usecase: str
    entries: int
    stage: str | None
    head: str | None


@dataclass(frozen=True)
class VerificationReport:
    chains: tuple[ChainSummary, ...]
    violations: tuple[Violation, ...] = field(default=())

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
        }


def stray_keys(ledger: Ledger) -> list[Violation]:
    """Objects under the chains prefix that are not entries: something put them there."""
    return [
        Violation(
            key[len(CHAINS_PREFIX) :].split("/")[0] or "?",
            None,
            "stray-object",
            f"{key} is not a ledger entry key",
        )
        for key in ledger.store.list_keys(CHAINS_PREFIX)
        if parse_entry_key(key) is None
    ]


def verify_ledger(ledger: Ledger, usecases: list[str] | None = None) -> VerificationReport:
    ids = usecases if usecases is not None else ledger.usecases()
    chains: list[ChainSummary] = []
    violations: list[Violation] = [] if usecases is not None else stray_keys(ledger)
    for usecase_id in ids:
        replayed = ledger.replay(usecase_id, keep_history=False)
        state = replayed.state
        if state.next_sequence == 0:
            violations.append(
                Violation(usecase_id, None, "chain-missing", "no entries found for this use case")
            )
        chains.append(
            ChainSummary(
                usecase_id,
                state.next_sequence,
                state.stage.value if state.stage else None,
                state.head_digest,
            )
        )
        violations.extend(replayed.violations)
    return VerificationReport(tuple(chains), tuple(violations))
