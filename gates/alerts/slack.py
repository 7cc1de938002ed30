"""The alert as a Slack-compatible message: ``text`` for notifications, ``blocks`` to read.

Slack rejects messages over its limits (150 characters in a header, 3000 in a
section, 50 blocks), so long check lists are cut to what fits and end with
"... and N more"; the ledger entry named in the message holds the full list.
Errors come first, then failures, then warnings, so the cut keeps what matters most.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any
from urllib.parse import quote

from gates.alerts.event import AlertEvent, FailingCheck

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
TEXT_LIMIT = 3000
#: At most this many checks are listed; the rest are counted.
MAX_LISTED = 20
#: Longest rendering of one observed or expected value, and of one reason.
VALUE_LIMIT = 120
REASON_LIMIT = 300

_SEVERITY = {"error": 0, "fail": 1, "warn": 2}
_HEADLINES = {
    ("recheck", "fail"): "Re-check failed",
    ("recheck", "error"): "Re-check could not run",
    ("recheck", "warn"): "Re-check warning",
    ("recheck", "ok"): "Re-check ok",
    ("promotion", "blocked"): "Promotion blocked",
    ("promotion", "error"): "Promotion gate error",
    ("promotion", "pass"): "Promotion passed",
}


def entry_link(link_base: str, usecase: str, sequence: int) -> str:
    """The entry's page under ``link_base``, in the shape of the ``stagegate ui`` routes."""
    return f"{link_base.rstrip('/')}/entries/{quote(usecase, safe='')}/{sequence}"


def slack_payload(event: AlertEvent, link_base: str = "") -> dict[str, Any]:
    """A message with a ``text`` fallback and ``blocks``: header, summary, checks, context."""
    headline = _HEADLINES[(event.kind, event.verdict)]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{headline}: {event.title}", HEADER_LIMIT),
                "emoji": False,
            },
        },
        {"type": "section", "fields": _summary_fields(event)},
    ]
    if event.checks:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _checks_text(event.checks)}}
        )
    blocks.append({"type": "context", "elements": _context(event, link_base)})
    return {"text": _fallback_text(event, headline), "blocks": blocks}


def _summary_fields(event: AlertEvent) -> list[dict[str, str]]:
    fields = [
        ("Use case", f"{_esc(event.title)} (`{_esc(event.usecase)}`)"),
        ("Stage", _esc(event.stage)),
        ("Verdict", _esc(event.verdict.upper())),
    ]
    if event.target is not None:
        fields.append(("Target", _esc(event.target)))
    return [{"type": "mrkdwn", "text": _cut(f"*{name}*\n{value}", 2000)} for name, value in fields]


def _ordered(checks: tuple[FailingCheck, ...]) -> list[FailingCheck]:
    return sorted(checks, key=lambda c: _SEVERITY.get(c.status, len(_SEVERITY)))


def _check_line(c: FailingCheck) -> str:
    line = f"• *{_esc(c.check)}* {_esc(c.status.upper())}: {_esc(_cut(c.reason, REASON_LIMIT))}"
    if c.observed is not None or c.expected is not None:
        line += (
            f"\n    observed `{_esc(_value(c.observed))}` vs expected `{_esc(_value(c.expected))}`"
        )
    return line


def _checks_text(checks: tuple[FailingCheck, ...]) -> str:
    title = f"*Checks that need attention ({len(checks)})*"
    lines: list[str] = []
    used = len(title)
    reserve = len("\n... and 9999 more")
    for c in _ordered(checks)[:MAX_LISTED]:
        line = _check_line(c)
        if used + 1 + len(line) + reserve > SECTION_LIMIT:
            break
        lines.append(line)
        used += 1 + len(line)
    rest = len(checks) - len(lines)
    if rest:
        lines.append(f"... and {rest} more")
    return "\n".join([title, *lines])


def _context(event: AlertEvent, link_base: str) -> list[dict[str, str]]:
    when = event.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"Ledger entry `{_esc(event.entry_key)}` · sequence {event.sequence} · {when}"
    elements = [{"type": "mrkdwn", "text": text}]
    if link_base:
        url = entry_link(link_base, event.usecase, event.sequence)
        elements.append({"type": "mrkdwn", "text": f"<{_esc(url)}|Open entry {event.sequence}>"})
    return elements


def _fallback_text(event: AlertEvent, headline: str) -> str:
    where = f"{event.stage} → {event.target}" if event.target else event.stage
    text = f"{headline}: {event.title} ({event.usecase}, {where}), verdict {event.verdict}"
    if event.checks:
        ordered = _ordered(event.checks)
        names = [f"{c.check} ({c.status})" for c in ordered[:MAX_LISTED]]
        if len(ordered) > MAX_LISTED:
            names.append(f"... and {len(ordered) - MAX_LISTED} more")
        text += ": " + ", ".join(names)
    return _esc(_cut(text, TEXT_LIMIT))


def _value(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        shown = value
    else:
        try:
            shown = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        except ValueError:  # a circular structure; show what Python shows
            shown = repr(value)
    return _cut(shown.replace("`", "'").replace("\n", " "), VALUE_LIMIT)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc(text: str) -> str:
    """Slack's mrkdwn escapes: only ``&``, ``<`` and ``>`` are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
