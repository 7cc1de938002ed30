"""When an outcome is news: alert on new or changed problems, stay quiet on repeats."""

from __future__ import annotations

import pytest

from gates.alerts import AlertEvent, PreviousOutcome, alert_signature, should_alert
from tests.support.alerts import fail, make_event

FAILING = make_event()
FAILING_PAIRS = (("slo:availability", "fail"), ("cost:monthly", "warn"))


def previous(
    verdict: str = "fail",
    checks: tuple[tuple[str, str], ...] = FAILING_PAIRS,
    *,
    delivered: bool = True,
) -> PreviousOutcome:
    return PreviousOutcome(
        verdict, checks, delivered, alert="sent" if delivered else "failed", sequence=6
    )


def test_signature_ignores_order_but_not_verdict_or_status() -> None:
    one = alert_signature("fail", [("a", "fail"), ("b", "warn")])
    assert one.startswith("sha256:")
    assert one == alert_signature("fail", [("b", "warn"), ("a", "fail")])
    assert one != alert_signature("error", [("a", "fail"), ("b", "warn")])
    assert one != alert_signature("fail", [("a", "error"), ("b", "warn")])
    assert one != alert_signature("fail", [("a", "fail")])


def test_signature_leaves_out_passing_and_skipped_checks() -> None:
    assert alert_signature("fail", [("a", "fail"), ("b", "pass"), ("c", "skipped")]) == (
        alert_signature("fail", [("a", "fail")])
    )


def test_first_failure_alerts() -> None:
    decision, reason = should_alert(FAILING, None)
    assert decision is True
    assert "no previous re-check" in reason


def test_unchanged_failure_already_delivered_stays_quiet() -> None:
    decision, reason = should_alert(FAILING, previous(checks=tuple(reversed(FAILING_PAIRS))))
    assert decision is False
    assert "same checks" in reason and "entry 6" in reason


def test_unchanged_failure_whose_alert_was_not_delivered_is_sent_again() -> None:
    decision, reason = should_alert(FAILING, previous(delivered=False))
    assert decision is True
    assert "not delivered (failed)" in reason


def test_changed_failure_alerts() -> None:
    changed = make_event(checks=(fail("slo:availability", "error"),))
    decision, _ = should_alert(changed, previous())
    assert decision is True


def test_error_after_the_same_failure_alerts() -> None:
    assert should_alert(make_event(verdict="error"), previous())[0] is True


@pytest.mark.parametrize("prior", [None, "ok", "fail"])
def test_newly_warning_alerts(prior: str | None) -> None:
    warning = make_event(verdict="warn", checks=(fail("cost:monthly", "warn"),))
    before = None if prior is None else previous(prior, (("cost:monthly", "warn"),))
    decision, reason = should_alert(warning, before)
    assert decision is True, reason


def test_continuing_warning_stays_quiet_and_a_new_warning_check_alerts() -> None:
    warning = make_event(verdict="warn", checks=(fail("cost:monthly", "warn"),))
    before = previous("warn", (("cost:monthly", "warn"),))
    assert should_alert(warning, before)[0] is False
    more = make_event(
        verdict="warn", checks=(fail("cost:monthly", "warn"), fail("timebox", "warn"))
    )
    assert should_alert(more, before)[0] is True
    assert should_alert(warning, previous("warn", (("cost:monthly", "warn"),), delivered=False))[0]


def test_ok_recheck_never_alerts_even_after_a_failure() -> None:
    decision, reason = should_alert(make_event(verdict="ok", checks=()), previous())
    assert decision is False
    assert "nothing to alert" in reason


def promotion(verdict: str, *checks: tuple[str, str]) -> AlertEvent:
    return make_event(
        kind="promotion",
        stage="pilot",
        target="production",
        verdict=verdict,
        checks=tuple(fail(c, s) for c, s in checks),
    )


def test_blocked_promotion_alerts_unless_the_last_gate_to_the_target_failed_the_same_way() -> None:
    blocked = promotion("blocked", ("approval:sponsor", "fail"))
    assert should_alert(blocked, None)[0] is True
    same = PreviousOutcome("blocked", (("approval:sponsor", "fail"),), True, sequence=4)
    decision, reason = should_alert(blocked, same)
    assert decision is False
    assert "gate to production" in reason
    other = PreviousOutcome("blocked", (("metric:accuracy", "fail"),), True)
    assert should_alert(blocked, other)[0] is True


def test_promotion_error_alerts_and_pass_does_not() -> None:
    assert should_alert(promotion("error", ("metric:accuracy", "error")), None)[0] is True
    assert should_alert(promotion("pass"), None)[0] is False


def test_verdict_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="recheck verdict 'blocked'"):
        make_event(verdict="blocked")
    with pytest.raises(ValueError, match="promotion verdict 'ok'"):
        promotion("ok")
