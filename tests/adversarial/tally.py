"""Counts of the adversarial suite, per family, printed at the end of the pytest run."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Every family's tally, in the order the families ran.
TALLIES: dict[str, Tally] = {}


@dataclass
class Tally:
    """What one family of mutations did: tried, detected, crashes, false passes.

    ``detected``: the mutation changed what the input says and it was refused (a
    violation, a ConfigError). ``benign``: it changed nothing that counts (formatting,
    an ignored field) or loaded as valid input. ``false_alarms``: a benign mutation that
    was reported anyway (strict, not wrong; shown, not asserted).
    """

    family: str
    tried: int = 0
    detected: int = 0
    benign: int = 0
    false_alarms: int = 0
    alarms: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    false_passes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, family: str) -> Tally:
        TALLIES[family] = cls(family)
        return TALLIES[family]

    def crash(self, case: str, error: BaseException) -> None:
        self.crashes.append(f"{case}: {type(error).__name__}: {str(error)[:300]}")

    def line(self) -> str:
        return (
            f"{self.family:<34} tried {self.tried:>6}  detected {self.detected:>6}  "
            f"benign {self.benign:>5}  false alarms {self.false_alarms:>4}  "
            f"crashes {len(self.crashes)}  false passes {len(self.false_passes)}"
        )

    def assert_clean(self) -> None:
        """No crash and no false pass; the first few of each are shown with their case."""
        assert not self.crashes, "\n".join(self.crashes[:10])
        assert not self.false_passes, "\n".join(self.false_passes[:10])
