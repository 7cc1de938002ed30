"""What every check kind receives and returns, and how a gate knows one (``Check``).

A check kind is one module exposing ``KIND`` and ``run(ctx) -> list[CheckResult]``.
It reads its evidence, binds it by digest, and reports pass/warn/fail/error/skipped.
A check returns an empty list when its criteria do not apply to this stage. Broken
evidence raises ``EvidenceError`` or returns an ``error`` result; the gate runner turns
any exception into an ``error`` result, never into a pass.

A gate runs the checks of a ``CheckRegistry``: a mapping from kind to ``Check``, in
the order a gate report lists them (``gates.checks.registry.DEFAULT_CHECKS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gates.ledger.replay import ApprovalSeen
from gates.policy.model import ExitCriteria
from gates.results import CheckResult, Evidence, Status
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.usecase import UseCaseSpec


@dataclass(frozen=True)
class StageView:
    """What the verified ledger says about the stage being left."""

    stage: Stage
    entered_at: datetime | None
    locked_digest: str | None
    #: Approvals given under the criteria in force (the only ones that count).
    approvals: tuple[ApprovalSeen, ...] = ()
    #: Approvals of this stage given under criteria an amendment has since replaced.
    superseded: tuple[ApprovalSeen, ...] = ()
    #: The amendment that extended the stage's hard maximum, if one did.
    extended_by: int | None = None


@dataclass(frozen=True)
class CheckContext:
    workspace: Workspace
    usecase: UseCaseSpec
    stage: Stage
    criteria: ExitCriteria
    criteria_digest: str
    view: StageView
    now: datetime
    #: Memo shared by the checks of one gate run (e.g. an MLflow run read once).
    memo: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


CheckFn = Callable[[CheckContext], list[CheckResult]]


def always(criteria: ExitCriteria) -> bool:
    """The ``applies`` of a check that judges every stage."""
    return True


@dataclass(frozen=True)
class Check:
    """One check kind as a gate runs it.

    ``kind`` names it in the plan, in its task run and in the ``error`` result of a run
    that raised; ``applies`` says whether the stage's criteria give it anything to judge
    (a check that does not apply is left out of the plan instead of reporting nothing).
    """

    kind: str
    run: CheckFn
    applies: Callable[[ExitCriteria], bool] = always


#: Check kinds by name; iteration order is the order a gate report lists them.
CheckRegistry = Mapping[str, Check]


def error_result(check: str, kind: str, reason: str, *evidence: Evidence) -> CheckResult:
    """An ``error`` result: the check could not run, so the gate cannot pass."""
    return CheckResult(
        check=check, kind=kind, status=Status.ERROR, reason=reason, evidence=evidence
    )
