"""Whether an entry's time is evidence: the signer's clock, checked against the store's
clock and, where configured, an RFC 3161 timestamp authority.

Writers record their own clock (``gates.clock``); this is the auditor's side. The rules,
each a ``Violation`` naming the entry:

- ``clock-simulated``: the entry says it was written on a simulated clock, and the
  verifier's settings declare the system clock. (Where they declare a simulated clock,
  such entries are allowed and the report says plainly that timings are not evidence.)
- ``time-ahead-of-store``: on the system clock, the entry's time is later than when the
  store received it, beyond the tolerance: recorded from the future.
- ``time-behind-store``: the entry's time is earlier than when the store received it,
  beyond the tolerance: back-dated.
- ``timestamp-missing``, ``timestamp-invalid``, ``timestamp-mismatch``, ``timestamp-skew``:
  with a TSA certificate configured, every entry needs a token over its exact envelope
  bytes that verifies against the chain, and on the system clock the TSA's genTime
  agrees with the entry's time within the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gates.clock import Clock, iso, span
from gates.ledger.entry import Entry, Violation
from gates.ledger.timestamps import envelope_digest
from gates.tsa.token import check_token, time_disagreement

if TYPE_CHECKING:  # X.509 loads only where a TSA is configured (``gates.tsa.chain``)
    from gates.tsa.chain import TsaChain

SIMULATED_NOTE = "simulated time: timings are not evidence"


@dataclass
class TimeEvidence:
    """Judges entry times for one verification, counting what it relied on for the notes."""

    #: The verifier's clock settings: the tolerance, and whether simulated time is allowed.
    clock: Clock
    #: Whose clock the store's listing reports (``ObjectStore.modified_by``); None where
    #: there is none to compare with (a bundle).
    store_clock: str | None
    #: The TSA chain tokens must verify against; None: tokens are not checked.
    tsa: TsaChain | None
    simulated_entries: int = 0
    compared_with_store: int = 0
    tokens_checked: int = 0
    tokens_unchecked: int = 0

    @property
    def tolerance(self) -> timedelta:
        return self.clock.tolerance

    def judge(
        self, usecase: str, seq: int, entry: Entry, received: datetime | None
    ) -> list[Violation]:
        """The clock rules for one verified entry; ``received``: when the store got it."""
        p = entry.predicate
        if p.clock == "simulated":
            self.simulated_entries += 1
            if self.clock.simulated:
                return []
            return [
                Violation(
                    usecase,
                    seq,
                    "clock-simulated",
                    f"written on a simulated clock (its time {iso(p.time)} is not evidence), "
                    "but this verifier's settings declare the system clock",
                )
            ]
        if received is None:
            return []
        self.compared_with_store += 1
        skew = p.time - received
        if skew > self.tolerance:
            return [
                Violation(
                    usecase,
                    seq,
                    "time-ahead-of-store",
                    f"entry time {iso(p.time)} is {span(skew)} after the store received it "
                    f"({iso(received)}, by {self.store_clock}): recorded from the future "
                    f"(tolerance {self.tolerance.total_seconds():g} s)",
                )
            ]
        if -skew > self.tolerance:
            return [
                Violation(
                    usecase,
                    seq,
                    "time-behind-store",
                    f"entry time {iso(p.time)} is {span(skew)} before the store received it "
                    f"({iso(received)}, by {self.store_clock}): back-dated "
                    f"(tolerance {self.tolerance.total_seconds():g} s)",
                )
            ]
        return []

    def token(
        self, usecase: str, seq: int, entry: Entry | None, envelope: bytes, key: str, token: bytes
    ) -> list[Violation]:
        """Check the token stored for ``envelope`` (the entry's exact bytes)."""
        assert self.tsa is not None
        self.tokens_checked += 1
        check = check_token(token, envelope, self.tsa)
        if not check.sound:
            assert check.rule is not None
            return [Violation(usecase, seq, check.rule, f"timestamp token {key}: {check.problem}")]
        if entry is None or entry.predicate.clock != "system" or check.gen_time is None:
            return []
        disagreement = time_disagreement(check.gen_time, entry.predicate.time, self.tolerance)
        if not disagreement:
            return []
        return [Violation(usecase, seq, "timestamp-skew", f"timestamp token {key}: {disagreement}")]

    def missing(self, usecase: str, seq: int, envelope: bytes) -> Violation:
        return Violation(
            usecase,
            seq,
            "timestamp-missing",
            f"no timestamp token for this entry's envelope (sha256 {envelope_digest(envelope)[:16]}…); "
            f"a TSA is configured ({self.tsa.source if self.tsa else '?'}), so every entry needs one",
        )

    @property
    def simulated(self) -> bool:
        return self.simulated_entries > 0

    def notes(self) -> list[str]:
        notes: list[str] = []
        if self.simulated_entries:
            notes.append(
                f"{SIMULATED_NOTE} ({self.simulated_entries} entries were written on a clock "
                "the workspace declares simulated)"
            )
        if self.compared_with_store and self.store_clock:
            notes.append(f"entry times were compared with the store's clock: {self.store_clock}")
        if self.tokens_unchecked:
            notes.append(
                f"{self.tokens_unchecked} timestamp token(s) were not checked: "
                "no [timestamp] tsa_certificate is configured"
            )
        return notes

    def to_json(self) -> dict[str, object]:
        return {
            "simulatedEntries": self.simulated_entries,
            "storeClock": self.store_clock,
            "comparedWithStore": self.compared_with_store,
            "timestampsChecked": self.tokens_checked,
            "timestampsUnchecked": self.tokens_unchecked,
        }
