"""A recorded check and its evidence as a page shows them: readable, portable and linked.

Entries are untrusted bytes, so everything here takes what it finds (any JSON) and
makes text of it; nothing a stored entry holds can raise out of a page. Paths of this
workspace are shown relative to it (entries written before locations were recorded
that way carry the writing machine's absolute paths), epoch milliseconds are shown as
ISO times, and MLflow runs, experiments and model versions link out when ``[links]``
names their UI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gates.ledger.statement import CheckRecord
from gates.report.models import CheckView, EvidenceView, ExpectationView
from gates.report.outlinks import LinkOut
from gates.workspace.loader import Workspace
from gates.workspace.portable import LOCATION_KEYS, portable_location

#: Detail keys holding epoch milliseconds (``start_time_ms``, ``endTimeMs``).
_EPOCH_MS_KEY = re.compile(r"^(?P<name>.*?)(?:_ms|Ms)$")
#: Epoch milliseconds between 2001 and 2286: anything else is not taken for a time.
_EPOCH_MS_RANGE = (10**12, 10**13)


def as_text(value: Any) -> str:
    """A short human-readable rendering of an observed/expected value or evidence detail."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _epoch_ms(value: Any) -> str | None:
    if type(value) is not int or not _EPOCH_MS_RANGE[0] <= value < _EPOCH_MS_RANGE[1]:
        return None
    moment = datetime.fromtimestamp(value / 1000, UTC)
    return moment.isoformat(timespec="milliseconds")


def readable(workspace: Workspace, value: Any) -> Any:
    """Details for people: workspace-relative locations, ISO times for epoch milliseconds."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            timed = _EPOCH_MS_KEY.fullmatch(name)
            iso = _epoch_ms(item) if timed else None
            if timed and iso is not None:
                out[timed["name"] or name] = iso
            elif name in LOCATION_KEYS and isinstance(item, str):
                out[name] = portable_location(workspace, item)
            else:
                out[name] = readable(workspace, item)
        return out
    if isinstance(value, list):
        return [readable(workspace, item) for item in value]
    return value


def _expectations(details: Mapping[str, Any]) -> tuple[ExpectationView, ...]:
    recorded = details.get("expectations")
    if not isinstance(recorded, list):
        return ()
    views = []
    for item in recorded:
        if not isinstance(item, dict):
            continue
        unexpected = item.get("unexpected_count")
        examples = item.get("unexpected_examples")
        shown = "" if unexpected is None else as_text(unexpected)
        if shown and isinstance(examples, list) and examples:
            shown += " (e.g. " + ", ".join(as_text(e) for e in examples[:3]) + ")"
        views.append(
            ExpectationView(
                type=as_text(item.get("type")),
                column=as_text(item.get("column")) if item.get("column") is not None else "",
                met=item.get("success") is True,
                observed=as_text(item["observed_value"]) if "observed_value" in item else "",
                unexpected=shown,
                error=as_text(item["error"]) if item.get("error") else "",
            )
        )
    return tuple(views)


def _failed(details: Mapping[str, Any]) -> tuple[str, ...]:
    failed = details.get("failed")
    if "expectations" in details or not isinstance(failed, list):
        return ()
    return tuple(as_text(f) for f in failed)


def evidence_view(workspace: Workspace, links: LinkOut, ev: Mapping[str, Any]) -> EvidenceView:
    raw = ev.get("details")
    details: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    kind = as_text(ev.get("kind"))
    uri = ev.get("uri")
    return EvidenceView(
        kind=kind,
        uri=portable_location(workspace, uri) if isinstance(uri, str) else as_text(uri),
        digest=as_text(ev.get("digest")) if ev.get("digest") else "",
        details=as_text(readable(workspace, raw)) if raw else "",
        links=links.for_evidence(kind, details),
        expectations=_expectations(details) if kind == "gx-suite" else (),
        failed=_failed(details) if kind == "gx-suite" else (),
    )


def check_view(workspace: Workspace, links: LinkOut, c: CheckRecord) -> CheckView:
    return CheckView(
        check=c.check,
        kind=c.kind,
        status=c.status,
        reason=c.reason,
        observed=as_text(c.observed),
        expected=as_text(c.expected),
        evidence=tuple(
            evidence_view(workspace, links, ev) for ev in c.evidence if isinstance(ev, dict)
        ),
    )
