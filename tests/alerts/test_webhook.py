"""Delivery to a real HTTP receiver: sent when it is news, and never an exception."""

from __future__ import annotations

import time

import pytest

from gates.alerts import WEBHOOK_ENV, PreviousOutcome, send_alert
from gates.ledger.statement import AlertRecord
from gates.workspace.settings import AlertSettings
from tests.support.alerts import make_event
from tests.support.webhook import Receiver

FAILING = make_event()
SAME_DELIVERED = PreviousOutcome(
    "fail", (("slo:availability", "fail"), ("cost:monthly", "warn")), True, "sent", 6
)


def settings(url: str, **kw: object) -> AlertSettings:
    return AlertSettings.model_validate({"webhook_url": url, **kw})


def test_failure_is_posted_as_slack_json(receiver: Receiver) -> None:
    outcome = send_alert(settings(receiver.url, link_base="http://ui.local"), FAILING, None)
    assert outcome.status == "sent", outcome.detail
    assert outcome.detail.startswith("sent to 127.0.0.1:")
    assert "HTTP 200" in outcome.detail
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/services/T000/B000/secret-token"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("stagegate/")
    body = request.json()
    assert set(body) == {"text", "blocks"}
    assert body["blocks"][0]["type"] == "header"
    assert (
        body["blocks"][-1]["elements"][-1]["text"]
        == "<http://ui.local/entries/alpha/7|Open entry 7>"
    )
    # the outcome is what the re-check entry records
    assert AlertRecord.model_validate(outcome.to_record()).status == "sent"


def test_unchanged_delivered_failure_is_not_sent_again(receiver: Receiver) -> None:
    outcome = send_alert(settings(receiver.url), FAILING, SAME_DELIVERED)
    assert outcome.status == "unchanged"
    assert receiver.requests == []


def test_changed_failure_is_sent(receiver: Receiver) -> None:
    changed = PreviousOutcome("fail", (("slo:availability", "fail"),), True, "sent")
    assert send_alert(settings(receiver.url), FAILING, changed).status == "sent"
    assert len(receiver.requests) == 1


def test_newly_warning_is_sent_and_ok_is_not(receiver: Receiver) -> None:
    warning = make_event(verdict="warn", checks=FAILING.checks[1:])
    was_ok = PreviousOutcome("ok", (), False, "none")
    assert send_alert(settings(receiver.url), warning, was_ok).status == "sent"
    ok = send_alert(settings(receiver.url), make_event(verdict="ok", checks=()), None)
    assert ok.status == "none"
    assert len(receiver.requests) == 1
    assert receiver.requests[0].json()["blocks"][0]["text"]["text"].startswith("Re-check warning")


def test_without_a_url_alerts_are_disabled(receiver: Receiver) -> None:
    outcome = send_alert(settings(""), FAILING, None)
    assert outcome.status == "disabled"
    assert WEBHOOK_ENV in outcome.detail
    assert receiver.requests == []


def test_nothing_to_alert_is_none_even_without_a_url() -> None:
    assert send_alert(settings(""), make_event(verdict="ok", checks=()), None).status == "none"


def test_environment_url_overrides_the_settings_file(
    receiver: Receiver, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
    assert send_alert(settings(dead_url), FAILING, None).status == "sent"
    assert len(receiver.requests) == 1
    monkeypatch.setenv(WEBHOOK_ENV, "  ")  # blank means unset: the settings file applies
    assert send_alert(settings(receiver.url), FAILING, None).status == "sent"
    assert len(receiver.requests) == 2


def test_server_error_is_retried_once_then_failed(receiver: Receiver) -> None:
    receiver.answer(500)
    outcome = send_alert(settings(receiver.url), FAILING, None, backoff_seconds=0.01)
    assert outcome.status == "failed"
    assert len(receiver.requests) == 2
    host = receiver.url.split("/")[2]
    assert outcome.detail == (
        f"webhook at {host} answered HTTP 500 Internal Server Error: invalid_token (after one retry)"
    )
    assert "secret-token" not in outcome.detail


def test_server_error_then_success_is_sent(receiver: Receiver) -> None:
    receiver.answer(503, 200)
    outcome = send_alert(settings(receiver.url), FAILING, None, backoff_seconds=0.01)
    assert outcome.status == "sent"
    assert len(receiver.requests) == 2


def test_client_error_is_failed_without_retry(receiver: Receiver) -> None:
    receiver.answer(404)
    outcome = send_alert(settings(receiver.url), FAILING, None, backoff_seconds=0.01)
    assert outcome.status == "failed"
    assert "HTTP 404" in outcome.detail
    assert len(receiver.requests) == 1


# 307 and 308 keep the method and body: followed, they would deliver the alert elsewhere.
@pytest.mark.parametrize("status", [302, 307, 308])
def test_redirect_is_not_followed_and_not_taken_as_delivered(
    receiver: Receiver, status: int
) -> None:
    receiver.answer(status)
    outcome = send_alert(settings(receiver.url), FAILING, None)
    assert outcome.status == "failed"
    assert f"HTTP {status}" in outcome.detail
    assert [r.path for r in receiver.requests] == ["/services/T000/B000/secret-token"]


def test_slow_receiver_times_out_as_failed(receiver: Receiver) -> None:
    receiver.answer(200, delay=5)
    started = time.monotonic()
    outcome = send_alert(settings(receiver.url, timeout_seconds=0.2), FAILING, None)
    assert outcome.status == "failed"
    assert "timed out after 0.2s" in outcome.detail
    assert time.monotonic() - started < 2
    assert len(receiver.requests) == 1  # a timed-out POST may have landed: not repeated


def test_receiver_down_is_failed_after_one_retry(dead_url: str) -> None:
    outcome = send_alert(settings(dead_url), FAILING, None, backoff_seconds=0.01)
    assert outcome.status == "failed"
    host = dead_url.split("/")[2]
    assert outcome.detail == f"webhook at {host} unreachable: connection refused (after one retry)"


def test_receiver_closing_without_an_answer_is_retried_once_then_failed(
    receiver: Receiver,
) -> None:
    receiver.answer(0)
    outcome = send_alert(settings(receiver.url), FAILING, None, backoff_seconds=0.01)
    assert outcome.status == "failed"
    host = receiver.url.split("/")[2]
    assert outcome.detail.startswith(f"webhook at {host} connection failed: ")
    assert outcome.detail.endswith("(after one retry)")
    assert len(receiver.requests) == 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://hooks.example.com/x", "must be an http:// or https:// URL; found scheme 'ftp'"),
        ("hooks.example.com/services/x", "found no scheme"),
        ("https:///services/x", "has no host"),
        ("http://hooks.example.com:port/x", "is malformed"),
        ("http://hooks.example.com/a b", "contains spaces or control characters"),
    ],
)
def test_malformed_url_is_failed_with_a_clear_detail(url: str, expected: str) -> None:
    outcome = send_alert(settings(url), FAILING, None)
    assert outcome.status == "failed"
    assert outcome.detail.startswith("webhook URL from alerts.webhook_url ")
    assert expected in outcome.detail
