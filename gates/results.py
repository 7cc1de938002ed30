"""Check results as frozen data: a status, a reason, and the evidence they looked at."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def blocks(self) -> bool:
        """Whether this status keeps a gate closed. Errors always do (fail closed)."""
        return self in (Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class Evidence:
    """What a check looked at, bound by digest so an auditor can re-derive the result.

    ``uri`` says where it lives (path, s3:// URL, runs:/ id, models:/ name/version);
    ``digest`` is ``sha256:<hex>`` of its bytes where there are bytes to hash;
    ``details`` holds small facts (row counts, metric values, statistics).
    """

    kind: str
    uri: str
    digest: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "uri": self.uri}
        if self.digest is not None:
            out["digest"] = self.digest
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. ``observed`` and ``expected`` are short, human-readable."""

    check: str
    kind: str
    status: Status
    reason: str
    observed: Any = None
    expected: Any = None
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "kind": self.kind,
            "status": self.status.value,
            "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
        }
        if self.observed is not None:
            out["observed"] = self.observed
        if self.expected is not None:
            out["expected"] = self.expected
        return out


class Verdict(StrEnum):
    PASS = "pass"
    BLOCKED = "blocked"
    ERROR = "error"


def verdict_of(results: tuple[CheckResult, ...] | list[CheckResult]) -> Verdict:
    """Any error → error; any fail → blocked; an empty gate is an error, never a pass."""
    if not results:
        return Verdict.ERROR
    if any(r.status is Status.ERROR for r in results):
        return Verdict.ERROR
    if any(r.status is Status.FAIL for r in results):
        return Verdict.BLOCKED
    return Verdict.PASS
