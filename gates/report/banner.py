"""The verification banner every page starts with, and the violations it links to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gates.ledger.entry import Violation
from gates.ledger.time_evidence import SIMULATED_NOTE
from gates.ledger.verify import VerificationReport
from gates.report.models import Banner, ViolationView

#: Whether an entry has a page: ``has_page(usecase, sequence)``.
HasPage = Callable[[str, int], bool]


def violation_view(v: Violation, has_page: HasPage) -> ViolationView:
    """A violation, linked to its entry only when that entry is in the store.

    A violation may name an entry that is gone (a deleted newest entry, a truncated
    chain): it is named, and a link would lead nowhere.
    """
    linkable = v.sequence is not None and has_page(v.usecase, v.sequence)
    return ViolationView(v.usecase, v.sequence, v.rule, v.message, linkable)


def page_banner(
    report: VerificationReport,
    scope: str,
    now: datetime,
    has_page: HasPage,
    *,
    drop_rules: frozenset[str] = frozenset(),
    note: str = "",
) -> Banner:
    violations = tuple(
        violation_view(v, has_page) for v in report.violations if v.rule not in drop_rules
    )
    return Banner(
        scope=scope,
        intact=not violations,
        entries=report.entries,
        chains=sum(1 for c in report.chains if c.entries),
        violations=violations,
        checked_at=now,
        note=note,
        # The simulated-time note has a line of its own above the verdict.
        notes=tuple(str(n) for n in report.notes if not n.startswith(SIMULATED_NOTE)),
        simulated_clock=report.simulated_clock,
    )
