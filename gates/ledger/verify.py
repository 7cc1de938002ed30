"""Auditor verification of the whole ledger: signatures, links, gaps, binding, legality.

Streams each chain (bounded memory) and collects every violation instead of stopping
at the first, so one report tells the auditor everything that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gates.ledger.chain import Ledger, LedgerIndex
from gates.ledger.entry import CHAINS_PREFIX, Violation


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


def verify_ledger(ledger: Ledger, usecases: list[str] | None = None) -> VerificationReport:
    """Verify every chain (or the named ones) from one listing and one streamed fetch."""
    index = ledger.index(usecases[0] if usecases and len(usecases) == 1 else None)
    violations: list[Violation] = []
    if usecases is None:
        violations.extend(
            Violation(key[len(CHAINS_PREFIX) :].split("/")[0] or "?", None, "stray-object",
                      f"{key} is not a ledger entry key")
            for key in index.stray
        )  # fmt: skip
    else:
        index = LedgerIndex({uc: index.chains.get(uc, []) for uc in usecases})
    chains: list[ChainSummary] = []
    for replayed in ledger.replay_all(index):
        state = replayed.state
        chains.append(ChainSummary(state.usecase, state.next_sequence,
                                   state.stage.value if state.stage else None, state.head_digest))  # fmt: skip
        violations.extend(replayed.violations)
    for usecase_id, keyed in index.chains.items():
        if not keyed:
            chains.append(ChainSummary(usecase_id, 0, None, None))
            violations.append(
                Violation(usecase_id, None, "chain-missing", "no entries found for this use case")
            )
    return VerificationReport(tuple(chains), tuple(violations))
