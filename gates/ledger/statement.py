"""The signed payload: an in-toto Statement v1 whose predicate is a ledger entry.

Wire formats are strict pydantic models (unknown fields rejected, type URIs as
Literals), validated at the boundary after the signature has been checked. The JSON
Schema of the predicate lives in ``gates/schemas/ledger-entry-v1.schema.json``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://stagegate.dev/ledger-entry/v1"

EntryKind = Literal["registration", "gate", "approval", "amendment", "decision", "recheck"]
StageName = Literal["explore", "poc", "pilot", "production", "scale", "stopped"]


class WireModel(BaseModel):
    """Every wire format of the ledger: unknown fields refused, frozen, aliases accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def first_problem(error: Exception) -> str:
    """The first thing a wire model refused, as ``field.path: message``."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(error)


class Subject(WireModel):
    name: str
    digest: dict[str, str]


class Tool(WireModel):
    name: Literal["stagegate"] = "stagegate"
    version: str


class StageChange(WireModel):
    before: StageName | None
    after: StageName


class CriteriaLock(WireModel):
    """Exit criteria of ``stage`` locked by digest when the stage was entered or amended."""

    stage: StageName
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    criteria: dict[str, Any]


class ModelVersion(WireModel):
    name: str
    version: str


class CheckRecord(WireModel):
    check: str
    kind: str
    status: Literal["pass", "warn", "fail", "error", "skipped"]
    reason: str
    observed: Any = None
    expected: Any = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class GateRecord(WireModel):
    from_stage: StageName = Field(alias="from")
    to_stage: StageName = Field(alias="to")
    verdict: Literal["pass", "blocked", "error"]
    criteria_digest: str = Field(alias="criteriaDigest")
    checks: list[CheckRecord]
    model: ModelVersion | None = None
    approvals: list[int] = Field(default_factory=list)
    #: Id of the Prefect flow run that evaluated and signed this gate (none in-process).
    flow_run: str | None = Field(default=None, alias="flowRun")


class DecisionApproved(WireModel):
    """The decision a sponsor's decision approval approves; ``to`` is on the approval."""

    decision: Literal["no-go", "rollback"]
    reason: str = Field(min_length=1)


class ApprovalRecord(WireModel):
    """A sign-off by an approver's own key: a promotion, a criteria amendment, or a decision.

    ``to`` is the stage the approved move leads to: the next stage for a promotion, the
    current one for an amendment, and for a decision where it leaves the use case
    (``stopped`` for a No-Go, the earlier stage for a rollback). ``criteriaDigest`` is the
    digest in force (for an amendment, the one proposed).
    """

    purpose: Literal["promotion", "amendment", "decision"] = "promotion"
    role: str
    approver: str
    from_stage: StageName = Field(alias="from")
    to_stage: StageName = Field(alias="to")
    criteria_digest: str = Field(alias="criteriaDigest")
    note: str = ""
    #: What a decision approval approves (only with ``purpose: decision``).
    decision: DecisionApproved | None = None


class TimeBoxExtension(WireModel):
    """An amendment that moves the stage's hard maximum: the sponsor-approved way past it."""

    previous_max_days: int | None = Field(alias="previousMaxDays")
    max_days: int | None = Field(alias="maxDays")


class AmendmentRecord(WireModel):
    stage: StageName
    reason: str = Field(min_length=1)
    previous_digest: str = Field(alias="previousDigest")
    approvals: list[int] = Field(default_factory=list)
    extension: TimeBoxExtension | None = None


class DecisionRecord(WireModel):
    """A No-Go or a rollback, written by the gate on a sponsor's signed decision approval."""

    decision: Literal["no-go", "rollback"]
    reason: str = Field(min_length=1)
    to_stage: StageName = Field(alias="to")
    #: The sponsor decision approvals (entry sequence numbers) this decision carries out.
    approvals: list[int] = Field(default_factory=list)
    #: The deciding sponsor: the trusted-key list's name for the key that signed the
    #: approval, never the writer's own text.
    decider: str | None = None


class AlertRecord(WireModel):
    """What became of the notification for this entry (sent before the entry is written)."""

    status: Literal["sent", "unchanged", "failed", "disabled", "none"]
    detail: str = ""


class RecheckRecord(WireModel):
    """A nightly re-check of the current stage. It never moves the stage by itself."""

    stage: StageName
    verdict: Literal["ok", "warn", "fail", "error"]
    policy_digest: str = Field(alias="policyDigest", pattern=r"^sha256:[0-9a-f]{64}$")
    checks: list[CheckRecord]
    alert: AlertRecord | None = None


class SelectionRecord(WireModel):
    """Why Explore picked this use case: its score and rank among the scored candidates."""

    candidates_digest: str = Field(alias="candidatesDigest", pattern=r"^sha256:[0-9a-f]{64}$")
    rank: int = Field(ge=1)
    of: int = Field(ge=1)
    score: float
    rationale: str = Field(min_length=1)
    #: Per-criterion scores and their explanations, as shown to the deciders.
    criteria: dict[str, Any] = Field(default_factory=dict)


class EntryPredicate(WireModel):
    use_case: str = Field(alias="useCase")
    sequence: int = Field(ge=0)
    previous: str | None = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    kind: EntryKind
    time: datetime
    #: Whose clock ``time`` is: the signer's own (``system``), or one the workspace
    #: declared simulated (demos, tests), whose timings are not evidence.
    clock: Literal["system", "simulated"] = "system"
    actor: str
    tool: Tool
    stage: StageChange
    spec_digest: str | None = Field(default=None, alias="specDigest")
    lock: CriteriaLock | None = None
    gate: GateRecord | None = None
    approval: ApprovalRecord | None = None
    amendment: AmendmentRecord | None = None
    decision: DecisionRecord | None = None
    recheck: RecheckRecord | None = None
    selection: SelectionRecord | None = None


class Statement(WireModel):
    type_: Literal["https://in-toto.io/Statement/v1"] = Field(alias="_type")
    subject: list[Subject] = Field(min_length=1)
    predicate_type: Literal["https://stagegate.dev/ledger-entry/v1"] = Field(alias="predicateType")
    predicate: EntryPredicate


@functools.lru_cache(maxsize=1024)
def usecase_subject(usecase_id: str) -> Subject:
    """The subject binding an entry to its chain: name and sha256 of the use-case id.
    Remembered for the last chains asked about (verification asks once per entry); a
    frozen model, so one instance serves every caller."""
    import hashlib

    return Subject(
        name=f"stagegate:usecase/{usecase_id}",
        digest={"sha256": hashlib.sha256(usecase_id.encode("utf-8")).hexdigest()},
    )


def binds_to(statement: Statement, usecase_id: str) -> bool:
    """Whether the statement's one subject is ``usecase_subject(usecase_id)``: what
    ``statement.subject == [usecase_subject(usecase_id)]`` says of validated models,
    field by field (pydantic's ``==`` costs more than the rest of the comparison)."""
    subject, expected = statement.subject, usecase_subject(usecase_id)
    return (
        len(subject) == 1
        and type(subject[0]) is Subject
        and subject[0].name == expected.name
        and subject[0].digest == expected.digest
    )
