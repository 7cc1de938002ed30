"""Read an issue-tracker export (CSV, YAML or JSON list) into typed issues bound by digest.

Strict on purpose: a severity or status the gate does not know could hide a critical
open issue, so any unknown value is an error naming the row and field, never a guess.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlparse

from gates.canonical import sha256_hex, strict_json_loads
from gates.config_files import parse_yaml
from gates.errors import ConfigError, EvidenceError
from gates.evidence.datasets import read_bytes
from gates.results import Evidence

IssueKind = Literal["blocker", "issue"]
Severity = Literal["critical", "major", "minor"]
IssueStatus = Literal["open", "closed"]

KINDS: tuple[IssueKind, ...] = ("blocker", "issue")
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor")
STATUSES: tuple[IssueStatus, ...] = ("open", "closed")
REQUIRED_FIELDS = ("id", "title", "kind", "severity", "status")
FORMATS = (".csv", ".yaml", ".yml", ".json")

_Choice = TypeVar("_Choice", bound=str)


@dataclass(frozen=True)
class Issue:
    id: str
    title: str
    kind: IssueKind
    severity: Severity
    status: IssueStatus

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def label(self) -> str:
        return f"{self.id} ({self.title})" if self.title else self.id


def load_issues(location: str) -> tuple[list[Issue], Evidence]:
    """Read, hash and parse an issues export; EvidenceError naming file, row and field."""
    suffix = Path(urlparse(location).path).suffix.lower()
    if suffix not in FORMATS:
        raise EvidenceError(
            f"{location}: unsupported issues format {suffix!r}; expected CSV, YAML or JSON"
        )
    data = read_bytes(location)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise EvidenceError(f"{location}: not UTF-8 text ({e.reason})") from e
    rows = _csv_rows(location, text) if suffix == ".csv" else _document_rows(location, text, suffix)
    issues = _parse_rows(location, rows)
    open_issues = [i for i in issues if i.is_open]
    evidence = Evidence(
        kind="issues",
        uri=location,
        digest="sha256:" + sha256_hex(data),
        details={
            "issues": len(issues),
            "open": len(open_issues),
            "open_blockers": sum(1 for i in open_issues if i.kind == "blocker"),
            "open_critical": sum(1 for i in open_issues if i.severity == "critical"),
        },
    )
    return issues, evidence


def _csv_rows(location: str, text: str) -> list[Mapping[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise EvidenceError(
            f"{location}: missing column(s) {', '.join(missing)}; "
            f"expected columns {', '.join(REQUIRED_FIELDS)}"
        )
    try:
        rows: list[Mapping[str, Any]] = [
            {(k or "").strip(): v for k, v in row.items()} for row in reader
        ]
    except csv.Error as e:
        raise EvidenceError(f"{location}: not valid CSV ({e})") from e
    return rows


def _document_rows(location: str, text: str, suffix: str) -> list[Mapping[str, Any]]:
    try:
        doc: Any = strict_json_loads(text) if suffix == ".json" else parse_yaml(text, location)
    except ValueError as e:
        raise EvidenceError(f"{location}: not valid JSON ({e})") from e
    except ConfigError as e:
        raise EvidenceError(e.message) from e
    if doc is None:
        doc = []
    if not isinstance(doc, list):
        raise EvidenceError(
            f"{location}: expected a list of issues (id, title, kind, severity, status), "
            f"found {type(doc).__name__}"
        )
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            raise EvidenceError(
                f"{location}: row {number}: expected a mapping, found {type(item).__name__}"
            )
    return cast(list[Mapping[str, Any]], doc)


def _parse_rows(location: str, rows: list[Mapping[str, Any]]) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = f"{location}: row {number}"
        values: dict[str, str] = {}
        for name in REQUIRED_FIELDS:
            raw = row.get(name)
            if raw is None or isinstance(raw, (dict, list, bool)):
                found = "nothing" if raw is None else type(raw).__name__
                raise EvidenceError(f"{where}: field {name!r}: expected text, found {found}")
            values[name] = str(raw).strip()
        issue_id = values["id"]
        if not issue_id:
            raise EvidenceError(f"{where}: field 'id': must not be empty")
        where = f"{where} (id {issue_id})"
        if issue_id in seen:
            raise EvidenceError(f"{where}: field 'id': duplicate issue id")
        seen.add(issue_id)
        issues.append(
            Issue(
                id=issue_id,
                title=values["title"],
                kind=_choice(where, "kind", values["kind"], KINDS),
                severity=_choice(where, "severity", values["severity"], SEVERITIES),
                status=_choice(where, "status", values["status"], STATUSES),
            )
        )
    return issues


def _choice(where: str, name: str, value: str, allowed: tuple[_Choice, ...]) -> _Choice:
    """Case-insensitive match against the known values; anything else is an error."""
    for option in allowed:
        if value.lower() == option:
            return option
    raise EvidenceError(f"{where}: field {name!r}: {value!r} is not one of {', '.join(allowed)}")
