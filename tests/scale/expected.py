"""The Scale metrics worked out by hand from a generation plan, without the product's code.

Plain arithmetic over planned stage-entry times, departments, components and costs:
what a reviewer with the plan and a calculator would write down for each quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gates.stages import Stage
from tests.scale.ledger_plan import UseCasePlan


def bounds(year: int, number: int) -> tuple[datetime, datetime]:
    start = datetime(year, 3 * number - 2, 1, tzinfo=UTC)
    end = (
        datetime(year + 1, 1, 1, tzinfo=UTC)
        if number == 4
        else datetime(year, 3 * number + 1, 1, tzinfo=UTC)
    )
    return start, end


def first_production(plan: UseCasePlan) -> datetime | None:
    return next((t for t, s in plan.stage_changes() if s is Stage.PRODUCTION), None)


def stage_at(plan: UseCasePlan, when: datetime) -> Stage:
    return [s for t, s in plan.stage_changes() if t < when][-1]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Expected:
    label: str
    arrivals: list[str]
    departments: list[str]
    in_production: list[str]
    share: float | None
    median_days: float | None
    median_cost: float | None
    reused: dict[str, list[str]]
    library: list[str]


def expected_quarter(plans: list[UseCasePlan], year: int, number: int) -> Expected:
    start, end = bounds(year, number)
    reached = sorted(
        (p for p in plans if (t := first_production(p)) is not None and start <= t < end),
        key=lambda p: p.id,
    )
    registered = [p for p in plans if p.registered < end]
    departments = sorted({p.department for p in registered})
    in_production = sorted(
        {p.department for p in registered if stage_at(p, end) in (Stage.PRODUCTION, Stage.SCALE)}
    )
    days = []
    for p in reached:
        t = first_production(p)
        assert t is not None
        days.append((t - p.registered).total_seconds() / 86400)
    reused: dict[str, list[str]] = {}
    for p in reached:
        t = first_production(p)
        earlier: set[str] = set()
        for other in plans:
            o = first_production(other)
            if o is not None and t is not None and o < t:
                earlier.update(other.components)
        reused[p.id] = sorted(set(p.components) & earlier)
    library: set[str] = set()
    for p in plans:
        t = first_production(p)
        if t is not None and t < end:
            library.update(p.components)
    costs = [p.monthly_cost for p in reached if p.monthly_cost is not None]
    return Expected(
        label=f"{year}Q{number}",
        arrivals=[p.id for p in reached],
        departments=departments,
        in_production=in_production,
        share=len(in_production) / len(departments) if departments else None,
        median_days=median(days),
        median_cost=median(costs),
        reused=reused,
        library=sorted(library),
    )


#: The six quarters the generated ledger spans.
QUARTERS = [(2025, 3), (2025, 4), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]
