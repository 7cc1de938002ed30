"""Quarterly Scale metrics from a fifty-use-case, six-quarter ledger equal the hand-worked ones."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from gates.ledger.verify import verify_ledger
from gates.scale.metrics import QuarterMetrics, ledger_metrics
from gates.scale.quarters import Quarter
from gates.stages import Stage
from gates.workspace.session import Session
from tests.scale.expected import QUARTERS, expected_quarter, first_production
from tests.scale.ledger_plan import Generated

AS_OF = datetime(2027, 1, 2, tzinfo=UTC)


def test_the_generated_ledger_verifies_and_covers_every_case(generated: Generated) -> None:
    session = Session.open(generated.root)
    report = verify_ledger(session.ledger)
    assert report.intact, report.violations[:3]
    assert len(report.chains) == 50
    plans = generated.plans
    finals = {p.stage_changes()[-1][1] for p in plans}
    assert {Stage.PRODUCTION, Stage.SCALE, Stage.STOPPED, Stage.PILOT} <= finals
    assert any(s.action == "rollback" for p in plans for s in p.steps)
    assert any(s.action == "blocked" for p in plans for s in p.steps)
    reached = [p for p in plans if first_production(p)]
    assert any(p.monthly_cost is None for p in reached)  # some gates forecast no cost
    counts = [len(expected_quarter(plans, y, q).arrivals) for y, q in QUARTERS]
    assert min(counts) < 2 <= max(counts)  # the goal is both missed and met
    shares = [expected_quarter(plans, y, q).share for y, q in QUARTERS]
    assert any(b is not None and a is not None and b < a for a, b in itertools.pairwise(shares))


@pytest.fixture(scope="module")
def measured(generated: Generated) -> dict[str, QuarterMetrics]:
    session = Session.open(generated.root)
    metrics = ledger_metrics(session.ledger, session.workspace, Quarter(2026, 4), AS_OF)
    return {q.quarter.label: q for q in metrics.quarters}


@pytest.mark.parametrize(("year", "number"), QUARTERS)
def test_every_quarter_matches_the_plan(
    generated: Generated, measured: dict[str, QuarterMetrics], year: int, number: int
) -> None:
    want = expected_quarter(generated.plans, year, number)
    got = measured[want.label]
    assert got.complete
    assert sorted(a.usecase for a in got.arrivals) == want.arrivals
    assert got.production_count == len(want.arrivals)
    assert list(got.departments) == want.departments
    assert list(got.departments_in_production) == want.in_production
    assert got.department_share == pytest.approx(want.share)
    assert got.median_adoption_days == pytest.approx(want.median_days)
    assert got.median_cost == ({"USD": pytest.approx(want.median_cost)} if want.median_cost else {})
    assert {a.usecase: list(a.reused) for a in got.arrivals} == want.reused
    assert got.reusing == sum(1 for r in want.reused.values() if r)
    assert list(got.library) == want.library


def test_the_review_covers_exactly_the_six_quarters(measured: dict[str, QuarterMetrics]) -> None:
    assert list(measured) == [f"{y}Q{q}" for y, q in QUARTERS]


def test_entries_after_the_as_of_time_are_not_counted(generated: Generated) -> None:
    session = Session.open(generated.root)
    mid_quarter = datetime(2026, 11, 15, tzinfo=UTC)
    metrics = ledger_metrics(session.ledger, session.workspace, Quarter(2026, 4), mid_quarter)
    q4 = metrics.quarters[-1]
    assert not q4.complete
    want = [
        p.id
        for p in generated.plans
        if (t := first_production(p)) is not None
        and datetime(2026, 10, 1, tzinfo=UTC) <= t < mid_quarter
    ]
    assert sorted(a.usecase for a in q4.arrivals) == sorted(want)
    assert len(want) < len(expected_quarter(generated.plans, 2026, 4).arrivals)
