"""Deliver an alert to a webhook: one JSON POST, and never an exception for the caller.

The caller writes its ledger entry whatever happens here, so every delivery problem
becomes ``AlertOutcome("failed", detail)`` naming the host and what went wrong. The
detail ends up in a signed entry, so it names the host only: webhook URLs carry their
secret in the path. Redirects are not followed, since a redirected POST loses its body
and would look delivered when it was not.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gates._version import __version__
from gates.alerts.decision import decide
from gates.alerts.event import AlertEvent, AlertOutcome, PreviousOutcome
from gates.alerts.slack import slack_payload
from gates.workspace.settings import AlertSettings

if TYPE_CHECKING:
    import httpx

WEBHOOK_ENV = "STAGEGATE_WEBHOOK_URL"
SETTINGS_FIELD = "alerts.webhook_url"
#: Pause before the single retry after a connection error or a 5xx answer.
RETRY_BACKOFF_SECONDS = 0.5
DETAIL_LIMIT = 400


def webhook_url(settings: AlertSettings) -> tuple[str, str]:
    """(URL, where it came from): ``STAGEGATE_WEBHOOK_URL`` when set and not blank,
    else the settings file; an empty URL means alerts are disabled."""
    from_env = os.environ.get(WEBHOOK_ENV, "").strip()
    if from_env:
        return from_env, WEBHOOK_ENV
    return settings.webhook_url.strip(), SETTINGS_FIELD


def send_alert(
    settings: AlertSettings,
    event: AlertEvent,
    previous: PreviousOutcome | None,
    *,
    backoff_seconds: float = RETRY_BACKOFF_SECONDS,
) -> AlertOutcome:
    """Decide, and when the event deserves it, POST it as a Slack-compatible message.

    ``none``: nothing to alert; ``unchanged``: a delivered alert already covers it;
    ``disabled``: no webhook URL; ``sent``: a 2xx answer; ``failed``: anything else.
    """
    decision = decide(event, previous)
    if not decision.alert:
        return AlertOutcome(decision.quiet, decision.reason)
    url, source = webhook_url(settings)
    if not url:
        return AlertOutcome(
            "disabled",
            _cut(f"no webhook URL ({WEBHOOK_ENV} or {SETTINGS_FIELD}); {decision.reason}"),
        )
    host, problem = _check_url(url, source)
    if problem:
        return AlertOutcome("failed", _cut(problem))
    body = json.dumps(slack_payload(event, settings.link_base), ensure_ascii=False).encode()
    attempt = _post(url, host, body, settings.timeout_seconds)
    if attempt.retry:
        time.sleep(backoff_seconds)
        attempt = _post(url, host, body, settings.timeout_seconds)
        if not attempt.ok:
            return AlertOutcome("failed", _cut(f"{attempt.detail} (after one retry)"))
    if not attempt.ok:
        return AlertOutcome("failed", _cut(attempt.detail))
    return AlertOutcome("sent", _cut(f"{attempt.detail}; {decision.reason}"))


def _check_url(url: str, source: str) -> tuple[str, str | None]:
    """(host label, problem or None). Only absolute http(s) URLs with a host are used."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "", f"webhook URL from {source} contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        return "", f"webhook URL from {source} is malformed: {e}"
    if parts.scheme not in ("http", "https"):
        found = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        return "", f"webhook URL from {source} must be an http:// or https:// URL; found {found}"
    if not parts.hostname:
        return "", f"webhook URL from {source} has no host"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return (f"{host}:{port}" if port else host), None


@dataclass(frozen=True)
class _Attempt:
    ok: bool
    retry: bool
    detail: str


def _post(url: str, host: str, body: bytes, timeout: float) -> _Attempt:
    import httpx  # only when an alert is sent: importing alerts stays light

    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"stagegate/{__version__}",
        # Answers are read raw (a snippet of an error, a drained 2xx): no compression.
        "Accept-Encoding": "identity",
    }
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            if response.is_success:
                _read_some(response, 4096)
                return _Attempt(True, False, f"sent to {host} (HTTP {response.status_code})")
            # A 3xx is not followed: it surfaces here, as any other answer but a 2xx.
            answer = _snippet(response)
            return _Attempt(
                False,
                response.status_code >= 500,
                f"webhook at {host} answered HTTP {response.status_code} "
                f"{response.reason_phrase}".rstrip()
                + (f": {answer}" if answer else ""),
            )
    except httpx.TimeoutException:
        # Connecting or reading: the receiver may have acted on it, so no retry.
        return _Attempt(False, False, f"webhook at {host} timed out after {timeout:g}s")
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as e:
        # Its message may quote the URL, and with it the secret; name the kind only.
        return _Attempt(False, False, f"webhook URL for {host} is not valid ({type(e).__name__})")
    except httpx.ConnectError as e:
        return _Attempt(False, True, f"webhook at {host} unreachable: {_describe(e)}")
    except (httpx.HTTPError, OSError) as e:
        return _Attempt(False, True, f"webhook at {host} connection failed: {_describe(e)}")


def _describe(error: BaseException) -> str:
    """What went wrong, in words: the socket error under httpx's when there is one."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


def _read_some(response: httpx.Response, limit: int) -> bytes:
    """Up to ``limit`` bytes of the answer, as they came."""
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= limit:
            break
    return data[:limit]


def _snippet(response: httpx.Response) -> str:
    import httpx

    try:
        raw = _read_some(response, 200)
    except httpx.HTTPError:
        return ""
    text = raw.decode("utf-8", "replace")
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:120]


def _cut(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"
