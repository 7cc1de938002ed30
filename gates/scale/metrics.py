"""The Scale stage's numbers per calendar quarter, derived from the verified ledger.

The playbook judges Scale quarterly: at least two new use cases reach Production per
quarter, the share of departments using AI rises, and adoption gets cheaper and faster
through reuse. Every number here comes from signed stage-entry times; the specs add
only declared facts (department, shared components).

Definitions (all quarters in UTC, a quarter's end is exclusive):

- *reached Production*: first entered Production during the quarter (a re-entry after a
  rollback is not a new arrival);
- *department share*: departments with a use case in Production or Scale at quarter end,
  over departments with any use case registered by then (chains without a spec have no
  known department and are left out of both);
- *Explore → Production days*: from registration to first entering Production, per use
  case reaching Production in the quarter; the quarter's figure is their median;
- *cost per production use case*: the monthly production cost that the passing Pilot →
  Production gate's cost-forecast check held to the production budget (the forecast it
  chose, recorded with its inputs in the signed entry); the quarter's figure is the
  median per currency over the use cases reaching Production in it;
- *component reuse*: a use case reaching Production reuses when one of its declared
  components was declared by a use case that reached Production strictly earlier.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gates.ledger.chain import Ledger
from gates.scale.journeys import IN_PRODUCTION, Journey, read_journeys
from gates.scale.quarters import Quarter, quarters_between
from gates.workspace.loader import Workspace


@dataclass(frozen=True)
class ProductionArrival:
    """One use case reaching Production in the quarter, with what it cost and reused."""

    usecase: str
    department: str | None
    at: datetime
    adoption_days: float
    monthly_cost: float | None
    currency: str | None
    reused: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "useCase": self.usecase,
            "department": self.department,
            "at": self.at.isoformat(),
            "exploreToProductionDays": round(self.adoption_days, 2),
            "monthlyCost": self.monthly_cost,
            "currency": self.currency,
            "reusedComponents": list(self.reused),
        }


@dataclass(frozen=True)
class QuarterMetrics:
    quarter: Quarter
    #: Whether the quarter had ended when the metrics were read.
    complete: bool
    arrivals: tuple[ProductionArrival, ...]
    #: Departments with any use case registered by quarter end.
    departments: tuple[str, ...]
    #: Of those, the ones with a use case in Production or Scale at quarter end.
    departments_in_production: tuple[str, ...]
    #: Components declared by use cases that had reached Production by quarter end.
    library: tuple[str, ...]

    @property
    def production_count(self) -> int:
        return len(self.arrivals)

    @property
    def department_share(self) -> float | None:
        if not self.departments:
            return None
        return len(self.departments_in_production) / len(self.departments)

    @property
    def median_adoption_days(self) -> float | None:
        days = [a.adoption_days for a in self.arrivals]
        return float(statistics.median(days)) if days else None

    @property
    def median_cost(self) -> dict[str, float]:
        """Median monthly production cost per currency (currencies are never mixed)."""
        by_currency: dict[str, list[float]] = {}
        for a in self.arrivals:
            if a.monthly_cost is not None:
                by_currency.setdefault(a.currency or "", []).append(a.monthly_cost)
        return {c: float(statistics.median(v)) for c, v in sorted(by_currency.items())}

    @property
    def reusing(self) -> int:
        return sum(1 for a in self.arrivals if a.reused)

    @property
    def reuse_share(self) -> float | None:
        return self.reusing / len(self.arrivals) if self.arrivals else None

    def to_json(self) -> dict[str, Any]:
        share = self.department_share
        days = self.median_adoption_days
        reuse = self.reuse_share
        return {
            "quarter": self.quarter.label,
            "start": self.quarter.start.isoformat(),
            "end": self.quarter.end.isoformat(),
            "complete": self.complete,
            "productionUseCases": self.production_count,
            "departments": len(self.departments),
            "departmentsInProduction": len(self.departments_in_production),
            "departmentShare": round(share, 4) if share is not None else None,
            "medianExploreToProductionDays": round(days, 2) if days is not None else None,
            "medianMonthlyCost": {c: round(v, 2) for c, v in self.median_cost.items()},
            "reusingUseCases": self.reusing,
            "reuseShare": round(reuse, 4) if reuse is not None else None,
            "componentLibrary": list(self.library),
            "arrivals": [a.to_json() for a in self.arrivals],
        }


def quarter_metrics(journeys: list[Journey], quarter: Quarter, as_of: datetime) -> QuarterMetrics:
    """The quarter's numbers from journeys read as of ``as_of``."""
    end = quarter.end
    arrived = sorted(
        ((j.production_at, j) for j in journeys if j.production_at is not None),
        key=lambda pair: (pair[0], pair[1].usecase),
    )
    arrivals = tuple(
        _arrival(j, at, {c for t, e in arrived if t < at for c in e.components})
        for at, j in arrived
        if quarter.contains(at)
    )
    known = [j for j in journeys if j.department is not None and j.registered_at < end]
    departments = sorted({j.department for j in known if j.department})
    in_production = sorted(
        {j.department for j in known if j.department and j.stage_at(end) in IN_PRODUCTION}
    )
    library = sorted({c for t, j in arrived if t < end for c in j.components})
    return QuarterMetrics(
        quarter=quarter,
        complete=end <= as_of,
        arrivals=arrivals,
        departments=tuple(departments),
        departments_in_production=tuple(in_production),
        library=tuple(library),
    )


def _arrival(j: Journey, at: datetime, earlier_components: set[str]) -> ProductionArrival:
    cost = j.production_cost
    return ProductionArrival(
        usecase=j.usecase,
        department=j.department,
        at=at,
        adoption_days=(at - j.registered_at).total_seconds() / 86400,
        monthly_cost=cost.amount if cost else None,
        currency=cost.currency if cost else None,
        reused=tuple(sorted(set(j.components) & earlier_components)),
    )


def quarterly_metrics(
    journeys: list[Journey], last: Quarter, as_of: datetime
) -> list[QuarterMetrics]:
    """Every quarter from the first registration's up to ``last`` (at least ``last`` itself)."""
    first = min((Quarter.of(j.registered_at) for j in journeys), default=last)
    return [quarter_metrics(journeys, q, as_of) for q in quarters_between(min(first, last), last)]


@dataclass(frozen=True)
class LedgerMetrics:
    journeys: tuple[Journey, ...]
    quarters: tuple[QuarterMetrics, ...]
    as_of: datetime


def ledger_metrics(
    ledger: Ledger, workspace: Workspace, last: Quarter, as_of: datetime
) -> LedgerMetrics:
    """Read the verified ledger once and compute every quarter up to ``last``."""
    journeys = read_journeys(ledger, workspace, as_of)
    return LedgerMetrics(tuple(journeys), tuple(quarterly_metrics(journeys, last, as_of)), as_of)
