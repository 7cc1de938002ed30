"""The candidates file of Explore (YAML or CSV): the use cases on the table, rated on five criteria.

A candidate becomes a typed object at the edge or the file is refused with every
problem named by file, entry (or CSV line) and field. Three candidates at least: the
playbook compares 3–5 before it selects 1–2.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gates.config_files import parse_yaml
from gates.errors import ConfigError
from gates.explore.rules import (
    CRITERIA,
    LEVELS,
    ComplexityLevel,
    Criterion,
    DataLevel,
    ImpactLevel,
    MeasurabilityLevel,
    StakeholderLevel,
)
from gates.workspace.usecase import USECASE_ID, Sponsor

#: Columns of a candidates CSV, in the order a template shows them.
COLUMNS = ("id", "title", "department", "owner", "sponsors", *CRITERIA, "notes")
REQUIRED_COLUMNS = ("id", "title", "department", "owner", *CRITERIA)
MIN_CANDIDATES = 3
PLAYBOOK_RULE = "the playbook's Explore stage lists 3–5 candidates to compare before selecting 1–2"
_SPONSOR = re.compile(r"^(?P<name>.*?)\s*\((?P<title>[^()]*)\)\s*$")


def _sponsor(value: Any) -> Any:
    """``"Dana Park (COO)"`` → ``{name: Dana Park, title: COO}``; mappings pass through."""
    if not isinstance(value, str):
        return value
    match = _SPONSOR.match(value.strip())
    if match and match["name"]:
        return {"name": match["name"], "title": match["title"].strip()}
    return {"name": value.strip()}


class Candidate(BaseModel):
    """One use-case candidate: who owns it and how it rates on the selection criteria."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str
    title: str = Field(min_length=1)
    department: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    sponsors: list[Sponsor] = Field(default_factory=list)
    impact: ImpactLevel
    complexity: ComplexityLevel
    data: DataLevel
    measurability: MeasurabilityLevel
    stakeholders: StakeholderLevel
    notes: str = ""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not USECASE_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a use-case id (lower-case letters, digits and '-', max 63)"
            )
        return value

    @field_validator(*CRITERIA, mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        # "Very high", "very-high" and "structured+accessible" name the same levels.
        if isinstance(value, str):
            return re.sub(r"[\s+\-]+", "_", value.strip().lower())
        return value

    @field_validator("sponsors", mode="before")
    @classmethod
    def _sponsor_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(";") if part.strip()]
        if isinstance(value, list):
            return [_sponsor(item) for item in value]
        return value

    def level(self, criterion: Criterion) -> str:
        return str(getattr(self, criterion))


@dataclass(frozen=True)
class CandidateSet:
    """A validated candidates file: candidates sorted by id, plus its own weight overrides."""

    source: Path
    candidates: tuple[Candidate, ...]
    weights: Mapping[str, Any] = field(default_factory=dict)
    #: Where each candidate was found ("entry 2", "line 3"), for messages.
    where: Mapping[str, str] = field(default_factory=dict)

    def get(self, candidate_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.id == candidate_id), None)


def _problem_text(item: Any) -> str:
    kind, loc = item["type"], tuple(item["loc"])
    if kind == "literal_error" and loc and loc[0] in LEVELS:
        expected = ", ".join(LEVELS[loc[0]])
        return f"{item['input']!r} is not a known level; expected one of {expected}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field; expected some of {', '.join(COLUMNS)}"
    msg = str(item["msg"])
    return msg.removeprefix("Value error, ")


def _validate(
    source: str, entries: list[tuple[str, Any]]
) -> tuple[list[Candidate], dict[str, str]]:
    """Validate every entry; raise one ConfigError listing every problem found."""
    problems: list[str] = []
    candidates: list[Candidate] = []
    where: dict[str, str] = {}
    for label, raw in entries:
        ident = raw.get("id") if isinstance(raw, dict) else None
        named = f"{label} (id {ident!r})" if isinstance(ident, str) and ident else label
        if not isinstance(raw, dict):
            problems.append(f"{label}: expected a mapping of {', '.join(REQUIRED_COLUMNS)}")
            continue
        try:
            candidate = Candidate.model_validate(raw)
        except ValidationError as e:
            for item in e.errors():
                loc = ".".join(str(p) for p in item["loc"])
                problems.append(f"{named}: {loc + ': ' if loc else ''}{_problem_text(item)}")
            continue
        if candidate.id in where:
            problems.append(f"{named}: duplicate id {candidate.id!r} (also {where[candidate.id]})")
            continue
        where[candidate.id] = label
        candidates.append(candidate)
    if problems:
        raise ConfigError(source, problems)
    if len(candidates) < MIN_CANDIDATES:
        raise ConfigError(
            source,
            [
                f"{len(candidates)} candidate(s); at least {MIN_CANDIDATES} are needed: {PLAYBOOK_RULE}"
            ],
        )
    return candidates, where


def _yaml_entries(source: str, text: str) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    raw = parse_yaml(text, source)
    shape = "expected a mapping with candidates: (a list) and optionally weights:"
    if not isinstance(raw, dict):
        raise ConfigError(source, [shape])
    unknown = sorted(str(k) for k in raw if k not in ("candidates", "weights"))
    if unknown:
        raise ConfigError(source, [f"{k}: unknown field; {shape}" for k in unknown])
    items = raw.get("candidates")
    if not isinstance(items, list):
        raise ConfigError(source, [f"candidates: {shape}"])
    weights = raw.get("weights") or {}
    if not isinstance(weights, dict):
        raise ConfigError(source, ["weights: expected a mapping of criterion to weight"])
    return [(f"entry {i}", item) for i, item in enumerate(items, start=1)], weights


def _csv_entries(source: str, text: str) -> list[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    entries: list[tuple[str, Any]] = []
    header: list[str] | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines separate nothing
            if header is None:
                header = _header(source, row)
                continue
            line = f"line {reader.line_num}"
            if len(row) != len(header):
                raise ConfigError(
                    source, [f"{line}: {len(row)} fields where the header has {len(header)}"]
                )
            entries.append(
                (line, {k: v.strip() for k, v in zip(header, row, strict=True) if v.strip()})
            )
    except csv.Error as e:
        raise ConfigError(source, [f"line {reader.line_num}: not valid CSV: {e}"]) from e
    if header is None:
        raise ConfigError(source, [f"empty file; expected a header row: {','.join(COLUMNS)}"])
    return entries


def _header(source: str, row: list[str]) -> list[str]:
    header = [cell.strip().lower() for cell in row]
    problems = [f"header: unknown column {h!r}" for h in header if h not in COLUMNS]
    problems += [
        f"header: column {h!r} appears twice" for h in sorted(set(header)) if header.count(h) > 1
    ]
    problems += [
        f"header: required column {c!r} is missing" for c in REQUIRED_COLUMNS if c not in header
    ]
    if problems:
        raise ConfigError(source, problems, hint=f"the header row is: {','.join(COLUMNS)}")
    return header


def load_candidates(path: Path) -> CandidateSet:
    """Read and validate a candidates file (``.yaml``/``.yml`` or ``.csv``)."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise ConfigError(
            source, [f"unsupported file type {suffix or '(none)'!r}; expected .yaml, .yml or .csv"]
        )
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(source, ["candidates file not found"]) from None
    except OSError as e:
        raise ConfigError(source, [f"cannot read: {e.strerror}"]) from e
    except UnicodeDecodeError as e:
        raise ConfigError(source, [f"not UTF-8 text: {e}"]) from e
    weights: dict[str, Any] = {}
    if suffix == ".csv":
        entries = _csv_entries(source, text)
    else:
        entries, weights = _yaml_entries(source, text)
    candidates, where = _validate(source, entries)
    return CandidateSet(
        source=path,
        candidates=tuple(sorted(candidates, key=lambda c: c.id)),
        weights=weights,
        where=where,
    )
