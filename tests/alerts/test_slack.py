"""The Slack message: a readable summary within Slack's limits, linked to its ledger entry."""

from __future__ import annotations

from typing import Any

from gates.alerts import entry_link, slack_payload
from tests.support.alerts import fail, make_event


def blocks_of(payload: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in payload["blocks"] if b["type"] == kind]


def test_message_has_fallback_text_header_summary_checks_and_entry_context() -> None:
    payload = slack_payload(make_event())
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "section", "context"]
    assert payload["text"].startswith("Re-check failed: Alpha assistant (alpha, production)")
    assert "slo:availability (fail)" in payload["text"]
    header = blocks_of(payload, "header")[0]["text"]
    assert header == {
        "type": "plain_text",
        "text": "Re-check failed: Alpha assistant",
        "emoji": False,
    }
    summary = blocks_of(payload, "section")[0]["fields"]
    assert [f["text"] for f in summary] == [
        "*Use case*\nAlpha assistant (`alpha`)",
        "*Stage*\nproduction",
        "*Verdict*\nFAIL",
    ]
    checks = blocks_of(payload, "section")[1]["text"]["text"]
    assert "*slo:availability* FAIL" in checks
    assert "observed `0.995` vs expected `&gt;= 0.999`" in checks
    context = blocks_of(payload, "context")[0]["elements"]
    assert len(context) == 1
    assert "`chains/alpha/000000000007.dsse.json`" in context[0]["text"]
    assert "2026-03-30 02:00 UTC" in context[0]["text"]


def test_failures_are_listed_before_warnings_and_errors_first() -> None:
    payload = slack_payload(
        make_event(checks=(fail("w", "warn"), fail("f", "fail"), fail("e", "error")))
    )
    text = blocks_of(payload, "section")[1]["text"]["text"]
    assert text.index("*e* ERROR") < text.index("*f* FAIL") < text.index("*w* WARN")


def test_promotion_message_names_the_target() -> None:
    payload = slack_payload(
        make_event(kind="promotion", stage="pilot", target="production", verdict="blocked")
    )
    assert payload["blocks"][0]["text"]["text"] == "Promotion blocked: Alpha assistant"
    fields = [f["text"] for f in payload["blocks"][1]["fields"]]
    assert "*Target*\nproduction" in fields
    assert "(alpha, pilot → production)" in payload["text"]


def test_link_to_the_entry_follows_the_ui_route_when_a_base_is_set() -> None:
    payload = slack_payload(make_event(), link_base="https://gates.example.com/")
    elements = blocks_of(payload, "context")[0]["elements"]
    assert elements[-1]["text"] == "<https://gates.example.com/entries/alpha/7|Open entry 7>"
    assert (
        entry_link("http://localhost:8000", "alpha", 12) == "http://localhost:8000/entries/alpha/12"
    )


def test_long_check_lists_are_cut_to_slack_limits_and_counted() -> None:
    many = tuple(
        fail(f"check-{i:03d}", reason="x" * 500, observed="o" * 500, expected="e" * 500)
        for i in range(120)
    )
    payload = slack_payload(make_event(title="T" * 400, checks=many))
    assert len(payload["blocks"]) <= 50
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
    text = blocks_of(payload, "section")[1]["text"]["text"]
    assert len(text) <= 3000
    listed = text.count("• *check-")
    assert 0 < listed < 120
    assert text.endswith(f"... and {120 - listed} more")
    assert len(payload["text"]) <= 3000
    assert "... and" in payload["text"]


def test_twenty_five_short_checks_list_twenty_and_count_the_rest() -> None:
    payload = slack_payload(make_event(checks=tuple(fail(f"c{i}") for i in range(25))))
    text = blocks_of(payload, "section")[1]["text"]["text"]
    assert text.count("\n• ") == 20
    assert text.endswith("\n... and 5 more")


def test_check_text_is_escaped_for_slack_markup() -> None:
    payload = slack_payload(make_event(checks=(fail("<!channel>", reason="a & b > c"),)))
    text = blocks_of(payload, "section")[1]["text"]["text"]
    assert "<!channel>" not in text and "<!channel>" not in payload["text"]
    assert "&lt;!channel&gt;" in text and "a &amp; b &gt; c" in text


def test_no_check_section_when_nothing_is_listed() -> None:
    payload = slack_payload(make_event(verdict="error", checks=()))
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "context"]
