"""Page data for the report and the web UI: plain, frozen values a template renders.

Every page carries a ``Banner`` saying what verification found; the views below hold
only entries that opened under the same trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gates.engine.status import Health
from gates.report.outlinks import OutLink
from gates.risks import Risk
from gates.roadmap.tracking import RoadmapTrack
from gates.workspace.usecase import USECASE_ID

#: Rules that concern an entry's envelope and signatures rather than its place in the chain.
SIGNATURE_RULES = frozenset(
    {
        "envelope-malformed",
        "payload-malformed",
        "signature-invalid",
        "signer-untrusted",
        "signer-revoked",
        "signer-role",
    }
)


class PageNotFound(LookupError):
    """The page names a use case or entry that is neither in the ledger nor in the workspace."""


def is_usecase_id(value: str) -> bool:
    """Whether ``value`` is a well-formed use-case id (and so safe in a path or URL)."""
    return USECASE_ID.fullmatch(value) is not None


# -- view data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str  # ok | warn | danger | muted | info
    title: str = ""


@dataclass(frozen=True)
class ViolationView:
    usecase: str
    sequence: int | None
    rule: str
    message: str
    #: Whether the entry has a page to link to.
    linkable: bool


@dataclass(frozen=True)
class Banner:
    """What verification found, for the scope the page covers."""

    scope: str  # "ledger" or a use-case id
    intact: bool
    entries: int
    chains: int
    violations: tuple[ViolationView, ...]
    checked_at: datetime
    note: str = ""
    #: What verification wants the auditor to know that is not a violation.
    notes: tuple[str, ...] = ()
    #: The ledger holds entries written on a simulated clock: its timings are not evidence.
    simulated_clock: bool = False


@dataclass(frozen=True)
class StageSpan:
    stage: str
    start: datetime
    end: datetime | None  # None: still in this stage


@dataclass(frozen=True)
class GateMark:
    sequence: int
    time: datetime
    from_stage: str
    to_stage: str
    verdict: str


@dataclass(frozen=True)
class Lane:
    """One use case on the calendar: its stages and its gates."""

    usecase: str
    spans: tuple[StageSpan, ...]
    gates: tuple[GateMark, ...]


@dataclass(frozen=True)
class UseCaseRow:
    id: str
    title: str
    department: str
    stage: str
    stage_label: str
    entered_at: datetime | None
    days_in_stage: float | None
    planned_days: int | None
    max_days: int | None
    time_box: str  # within | over-planned | overdue | n/a
    #: The time box in words: "planned 28 d · max 42 d", "planned 90 d" or "—".
    time_box_text: str
    last_gate: str | None
    last_verdict: str | None
    next_checkpoint: str | None
    entries: int
    health: tuple[Badge, ...]
    linkable: bool
    #: The playbook risks present (``gates.risks``), in their documented order.
    risks: tuple[Risk, ...] = ()
    #: Why the risks could not be assessed, if so.
    risk_error: str | None = None
    #: The roadmap, planned against the ledger (``gates.roadmap``), when it can be planned.
    roadmap: RoadmapTrack | None = None
    #: Why the roadmap could not be planned (a bad ``roadmap`` override), if so.
    roadmap_error: str | None = None
    #: The newest re-check of the current stage: verdict, time and what it found.
    recheck: Health | None = None
    #: The health filter's value: ``ok``, ``warn``, ``fail``, ``error`` or ``none``.
    health_key: str = "none"


@dataclass(frozen=True)
class IndexView:
    workspace: str
    generated_at: datetime
    banner: Banner
    rows: tuple[UseCaseRow, ...]
    lanes: tuple[Lane, ...]


@dataclass(frozen=True)
class TimelineRow:
    sequence: int
    time: datetime | None
    kind: str
    stage_before: str | None
    stage_after: str | None
    summary: str
    signers: tuple[str, ...]
    verdict: str | None
    #: No violation names this entry.
    clean: bool
    violations: tuple[ViolationView, ...]
    #: Pages of other tools about it (the Prefect flow run that evaluated a gate).
    links: tuple[OutLink, ...] = ()


@dataclass(frozen=True)
class TimelinePage:
    """Where a page of a long timeline sits among the chain's ``total`` entries."""

    total: int
    #: The ``before`` cursor of the page of older entries; None: this page starts at #0.
    older: int | None
    #: The ``before`` cursor of the page of newer entries, unless that is the newest page.
    newer: int | None
    #: This page ends with the chain's newest entry.
    latest: bool


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class UseCaseView:
    row: UseCaseRow
    has_spec: bool
    owner: str
    sponsors: tuple[str, ...]
    spec_file: str
    budgets: tuple[Field, ...]
    deliverables: tuple[Field, ...]
    lock: Field | None
    banner: Banner
    timeline: tuple[TimelineRow, ...]
    lane: Lane | None
    generated_at: datetime
    #: The model version the newest gate with a model judged, and its MLflow page.
    model: str | None = None
    model_link: OutLink | None = None
    #: The monitoring experiment the newest re-check read, and its MLflow page.
    monitoring: str | None = None
    monitoring_link: OutLink | None = None
    #: Set when the timeline shows only part of the chain (the live UI's pages).
    paging: TimelinePage | None = None


@dataclass(frozen=True)
class ExpectationView:
    """One data expectation of a GX suite as the gate recorded it."""

    type: str
    column: str
    met: bool
    observed: str
    unexpected: str
    #: Why GX could not evaluate it, if so.
    error: str = ""


@dataclass(frozen=True)
class EvidenceView:
    kind: str
    #: Where it is, workspace-relative when it is a file of this workspace.
    uri: str
    digest: str
    details: str
    #: Pages of other tools about it (an MLflow run, experiment or model version).
    links: tuple[OutLink, ...] = ()
    #: For a GX suite: each expectation with its outcome.
    expectations: tuple[ExpectationView, ...] = ()
    #: For a GX suite recorded without per-expectation outcomes: what failed, in words.
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckView:
    check: str
    kind: str
    status: str
    reason: str
    observed: str
    expected: str
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True)
class ApprovalRef:
    sequence: int
    label: str
    #: The cited entry is in the store (a page exists to link to).
    exists: bool = True


@dataclass(frozen=True)
class GateView:
    from_stage: str
    to_stage: str
    verdict: str
    criteria_digest: str
    model: str | None
    checks: tuple[CheckView, ...]
    approvals: tuple[ApprovalRef, ...]
    model_link: OutLink | None = None
    #: The Prefect flow run that evaluated the gate, if one did, and its page.
    flow_run: str | None = None
    flow_run_link: OutLink | None = None


@dataclass(frozen=True)
class SignerView:
    name: str
    keyid: str
    roles: tuple[str, ...]
    revoked: bool


@dataclass(frozen=True)
class EntryView:
    usecase: str
    title: str
    sequence: int
    key: str
    #: False when the stored bytes did not verify; the content is then not shown at all.
    opened: bool
    kind: str
    time: datetime | None
    actor: str
    tool_version: str
    stage_before: str | None
    stage_after: str | None
    summary: str
    digest: str
    previous: str | None
    spec_digest: str | None
    signature_ok: bool
    signers: tuple[SignerView, ...]
    violations: tuple[ViolationView, ...]
    gate: GateView | None
    record_title: str | None
    record: tuple[Field, ...]
    lock_stage: str | None
    lock_digest: str | None
    lock_criteria: str | None
    previous_sequence: int | None
    next_sequence: int | None
    banner: Banner
    generated_at: datetime
    #: Checks of a non-gate record (a re-check), shown like a gate's.
    record_checks: tuple[CheckView, ...] = ()


# -- reading the ledger once per page -------------------------------------------------------
