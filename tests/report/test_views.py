"""Page data built from the verified ledger: what each page says, and what it refuses to say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gates.engine.actions import register
from gates.engine.checkpoints import write_checkpoint
from gates.engine.status import UseCaseStatus
from gates.ledger.entry import entry_key
from gates.report.charts import stage_timeline_chart, time_in_stage_chart
from gates.report.entry_page import entry_view
from gates.report.index_page import health_badges, index_view
from gates.report.models import GateMark, Lane, PageNotFound, StageSpan
from gates.report.usecase_page import usecase_view
from gates.workspace.loader import load_workspace
from gates.workspace.session import Session
from tests.support.counting_store import CountingStore
from tests.support.demo import HOSTILE
from tests.support.forge import flip_payload_byte
from tests.support.presets import ledger_world
from tests.support.world import T0

NOW = datetime.now(UTC)


def test_index_lists_every_use_case_with_stage_time_box_and_health(demo_root: Path) -> None:
    view = index_view(Session.open(demo_root), NOW)
    rows = {r.id: r for r in view.rows}
    assert list(rows) == ["invoice-ocr", "support-bot"]
    bot, ocr = rows["support-bot"], rows["invoice-ocr"]
    assert (bot.title, bot.department, bot.stage) == (
        "Customer support assistant", "customer-care", "production",
    )  # fmt: skip
    assert bot.entries == 12 and bot.planned_days == 90 and bot.time_box == "within"
    assert bot.days_in_stage is not None and 20 < bot.days_in_stage < 23
    # Health is the newest re-check's verdict, not the last gate's: the gate into
    # Production passed, the nightly re-check since then warns about the month's cost.
    assert [(b.label, b.tone) for b in bot.health] == [("re-check warns", "warn")]
    assert "health:cost warn" in bot.health[0].title and "entry #11" in bot.health[0].title
    assert bot.health_key == "warn" and bot.recheck is not None
    assert (bot.recheck.verdict, bot.recheck.sequence) == ("warn", 11)
    assert [(f.check, f.status) for f in bot.recheck.findings] == [("health:cost", "warn")]
    assert (bot.last_gate, bot.last_verdict) == ("Pilot → Production", "pass")
    assert ocr.stage == "stopped" and ocr.entries == 8
    assert [b.label for b in ocr.health] == ["stopped"] and ocr.health_key == "none"
    assert (ocr.last_gate, ocr.last_verdict) == ("PoC → Pilot", "blocked")
    assert view.banner.intact and view.banner.entries == 20 and view.banner.chains == 2


def test_index_lanes_follow_each_use_case_through_its_stages(demo_root: Path) -> None:
    view = index_view(Session.open(demo_root), NOW)
    lanes = {lane.usecase: lane for lane in view.lanes}
    bot = lanes["support-bot"]
    assert [s.stage for s in bot.spans] == ["explore", "poc", "pilot", "production"]
    assert bot.spans[-1].end is None and all(s.end for s in bot.spans[:-1])
    assert [g.verdict for g in bot.gates] == ["pass", "blocked", "pass", "blocked", "pass"]
    assert [s.stage for s in lanes["invoice-ocr"].spans] == ["explore", "poc", "stopped"]


def test_timeline_shows_every_entry_with_summary_signers_and_verdict(demo_root: Path) -> None:
    view = usecase_view(Session.open(demo_root), "support-bot", NOW)
    assert [r.sequence for r in view.timeline] == list(range(12))
    blocked = view.timeline[5]
    assert blocked.kind == "gate" and blocked.verdict == "blocked"
    assert blocked.summary == "gate PoC → Pilot: blocked (metric:accuracy)"
    assert blocked.signers == ("stagegate gate service",) and blocked.clean
    approval = view.timeline[1]
    assert approval.summary == "approval by Dana Park as sponsor for Explore → PoC"
    assert approval.signers == ("Dana Park",) and approval.verdict is None
    assert (view.timeline[6].stage_before, view.timeline[6].stage_after) == ("poc", "pilot")
    assert view.banner.intact and view.banner.scope == "support-bot"
    assert ("technical_report", "docs/poc/technical-report.md") in [
        (f.label, f.value) for f in view.deliverables
    ]
    assert view.lock is not None and view.lock.label == "Production"


def test_gate_entry_shows_each_check_with_observed_expected_and_evidence(
    demo_root: Path,
) -> None:
    view = entry_view(Session.open(demo_root), "support-bot", 5, NOW)
    assert (
        view.opened
        and view.signature_ok
        and [s.name for s in view.signers] == ["stagegate gate service"]
    )
    assert view.gate is not None and view.gate.verdict == "blocked"
    checks = {c.check: c for c in view.gate.checks}
    accuracy = checks["metric:accuracy"]
    assert (accuracy.status, accuracy.observed, accuracy.expected) == ("fail", "0.81", ">= 0.85")
    assert "0.81 does not meet >= 0.85" in accuracy.reason
    run = accuracy.evidence[0]
    assert run.kind == "mlflow-run" and run.uri.startswith("runs:/")
    report = checks["deliverable:technical_report"].evidence[0]
    assert report.uri == "docs/poc/technical-report.md" and report.digest.startswith("sha256:")
    assert [(a.sequence, a.label) for a in view.gate.approvals] == [(4, "Dana Park (sponsor)")]
    assert (view.previous_sequence, view.next_sequence) == (4, 6)
    assert view.digest.startswith("sha256:") and view.previous is not None


def test_registration_entry_shows_the_criteria_it_locked(demo_root: Path) -> None:
    view = entry_view(Session.open(demo_root), "support-bot", 0, NOW)
    assert view.kind == "registration" and view.previous_sequence is None
    assert view.lock_stage == "explore" and view.lock_digest is not None
    assert view.lock_criteria is not None and '"time_box"' in view.lock_criteria


def test_approval_and_decision_entries_show_their_records(demo_root: Path) -> None:
    session = Session.open(demo_root)
    approval = entry_view(session, "support-bot", 8, NOW)
    assert approval.record_title == "Approval"
    fields = {f.label: f.value for f in approval.record}
    assert fields["approver"] == "Sam Okafor" and fields["role"] == "operations_lead"
    assert fields["note"] == "runbook and on-call rota ready"
    sponsor = entry_view(session, "invoice-ocr", 6, NOW)
    assert sponsor.record_title == "Approval"
    fields = {f.label: f.value for f in sponsor.record}
    assert fields["approver"] == "Dana Park" and fields["decision approved"] == "no-go"
    decision = entry_view(session, "invoice-ocr", 7, NOW)
    assert decision.record_title == "Decision" and decision.next_sequence is None
    fields = {f.label: f.value for f in decision.record}
    assert "Handwritten invoices" in fields["reason"]
    assert fields["decided by"] == "Dana Park" and fields["sponsor approvals (entries)"] == "#6"


def test_a_tampered_entry_is_named_in_every_banner_and_its_content_is_withheld(
    demo_copy: Path,
) -> None:
    flip_payload_byte(demo_copy, "support-bot", 3)
    session = Session.open(demo_copy)

    index = index_view(session, NOW)
    assert not index.banner.intact
    named = [(v.usecase, v.sequence, v.rule) for v in index.banner.violations]
    assert ("support-bot", 3, "signature-invalid") in named
    bot = next(r for r in index.rows if r.id == "support-bot")
    assert bot.health[0].label == "fails verification"
    ocr = next(r for r in index.rows if r.id == "invoice-ocr")
    assert "fails verification" not in [b.label for b in ocr.health]

    page = usecase_view(session, "support-bot", NOW)
    assert not page.banner.intact
    row = page.timeline[3]
    assert row.kind == "unverified" and not row.clean and row.signers == ()
    assert [v.rule for v in row.violations] == ["signature-invalid"]
    assert len(page.timeline) == 12  # the tampered entry keeps its place

    entry = entry_view(session, "support-bot", 3, NOW)
    assert not entry.opened and entry.gate is None and entry.summary.startswith("stored entry")
    assert [v.rule for v in entry.violations] == ["signature-invalid"]

    other = usecase_view(session, "invoice-ocr", NOW)
    assert other.banner.intact  # a use-case page speaks for its own chain


def test_unknown_use_cases_entries_and_malformed_ids_are_not_found(demo_root: Path) -> None:
    session = Session.open(demo_root)
    for call in (
        lambda: usecase_view(session, "no-such-case", NOW),
        lambda: usecase_view(session, "../keys", NOW),
        lambda: usecase_view(session, "Support-Bot", NOW),
        lambda: entry_view(session, "support-bot", 12, NOW),
        lambda: entry_view(session, "support-bot", -1, NOW),
        lambda: entry_view(session, "..", 0, NOW),
    ):
        with pytest.raises(PageNotFound):
            call()


@pytest.fixture
def small_ws(tmp_path: Path) -> Path:
    return ledger_world(tmp_path / "ws").root


def test_a_use_case_past_its_hard_maximum_is_overdue_in_words_and_red(small_ws: Path) -> None:
    session = Session.open(small_ws)
    register(session, "alpha", now=T0)
    view = index_view(session, T0 + timedelta(days=20))
    alpha = next(r for r in view.rows if r.id == "alpha")
    assert alpha.time_box == "overdue" and (alpha.planned_days, alpha.max_days) == (14, 14)
    overdue = alpha.health[0]
    assert (overdue.label, overdue.tone) == ("overdue", "danger")
    assert "hard maximum of 14 days" in overdue.title
    svg = str(time_in_stage_chart(view.rows))
    assert "OVERDUE" in svg and "#dc2626" in svg


def test_a_use_case_with_a_spec_and_no_entries_is_unregistered_not_a_violation(
    small_ws: Path,
) -> None:
    session = Session.open(small_ws)
    register(session, "alpha", now=T0)
    index = index_view(session, T0 + timedelta(days=1))
    beta = next(r for r in index.rows if r.id == "beta")
    assert beta.stage == "unregistered" and beta.entries == 0
    assert [b.label for b in beta.health] == ["not registered"]
    page = usecase_view(session, "beta", T0 + timedelta(days=1))
    assert page.banner.intact and page.banner.note == "no ledger entries yet"
    assert page.timeline == () and page.lane is None


def test_over_the_planned_length_warns_before_the_hard_maximum() -> None:
    status = UseCaseStatus(
        id="x", title="x", stage="poc", entered_at=T0, days_in_stage=30.0, planned_days=28,
        max_days=42, time_box="over-planned", last_gate="explore->poc", last_verdict="pass",
        next_checkpoint=None, checkpoint_due=None, entries=4,
    )  # fmt: skip
    assert [(b.label, b.tone) for b in health_badges(status, 0)] == [
        ("over plan", "warn"),
        ("not re-checked", "muted"),
    ]


def test_a_use_case_page_fetches_each_entry_once(demo_root: Path) -> None:
    store = CountingStore(demo_root / "ledger")
    session = Session(load_workspace(demo_root), store_override=store)
    view = usecase_view(session, "support-bot", NOW)
    assert len(view.timeline) == 12 and view.banner.intact
    # Verification and display shared one read of each entry.
    entry_reads = [key for key in store.reads if key.startswith("chains/")]
    assert sorted(entry_reads) == sorted(set(entry_reads))
    assert len(entry_reads) == 12


def test_charts_escape_every_text_they_draw() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lane = Lane(
        HOSTILE,
        (StageSpan("explore", start, None),),
        (GateMark(0, start + timedelta(days=3), "explore", "poc", "blocked"),),
    )
    svg = str(stage_timeline_chart([lane], start + timedelta(days=30), chart_id=HOSTILE))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_a_violation_naming_an_entry_that_is_gone_is_not_linked(demo_copy: Path) -> None:
    session = Session.open(demo_copy)
    write_checkpoint(session.ledger, session.signer)
    (demo_copy / "ledger" / entry_key("support-bot", 11)).unlink()  # the newest, deleted
    (demo_copy / "ledger" / entry_key("support-bot", 4)).unlink()  # an approval a gate cites
    session = Session.open(demo_copy)

    for banner in (
        index_view(session, NOW).banner,
        usecase_view(session, "support-bot", NOW).banner,
        entry_view(session, "support-bot", 6, NOW).banner,
    ):
        named = {(v.sequence, v.rule): v.linkable for v in banner.violations}
        assert named[(11, "checkpoint-truncated")] is False
        assert named[(5, "sequence-gap")] is True  # still in the store: linked
        assert not any(linkable for (seq, _), linkable in named.items() if seq in (4, 11))
    gate = entry_view(session, "support-bot", 6, NOW).gate
    assert gate is not None
    assert [(a.sequence, a.label, a.exists) for a in gate.approvals] == [
        (4, "entry not in the store", False)
    ]
