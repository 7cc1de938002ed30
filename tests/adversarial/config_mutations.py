"""Seeded hostile edits of a use-case spec (YAML) and a settings file (TOML).

Two levels. Data-level: the valid document is walked, one place is chosen (a value, a
key, a mapping) and replaced with something hostile written as raw text, then the
document is written out again by the small emitters below (flow-style YAML, TOML), so
the hostile text reaches the real parsers as a person could have typed it. Text-level:
bytes of the written file are flipped, inserted (non-UTF-8, control, indentation,
anchors), lines duplicated or dropped, the file truncated.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

#: A valid spec touching most fields a spec has (validated before any mutation).
SPEC: dict[str, Any] = {
    "id": "alpha",
    "title": "Alpha assistant",
    "owner": "owner@example.com",
    "department": "support",
    "sponsors": [{"name": "Dana Park", "title": "COO"}, {"name": "Lee Moreau", "title": "CFO"}],
    "start_date": date(2026, 1, 5),
    "currency": "USD",
    "budgets": {"poc": 5000, "pilot": 20000.5, "production": 30000},
    "criteria": {
        "poc": {
            "metrics": [{"metric": "accuracy", "op": ">=", "value": 0.8}],
            "time_box": {"planned_days": 28, "max_days": 42},
        },
        "pilot": {
            "pilot": {"satisfaction_min": 4.0, "users_min": 10},
            "cost": {"budget_stage": "production", "warn_ratio": 0.8},
        },
    },
    "model": {"name": "alpha-model", "move_alias": True},
    "evidence": {
        "deliverables": {
            "candidate_list": "docs/candidates.md",
            "priority_matrix": "docs/matrix.md",
            "selection_rationale": "docs/rationale.md",
            **{
                name: f"docs/{name}.md"
                for name in (
                    "technical_report",
                    "prototype",
                    "quality_measurements",
                    "pilot_proposal",
                    "pilot_report",
                    "satisfaction_survey",
                    "operating_cost_analysis",
                    "production_migration_plan",
                    "monitoring_dashboard",
                    "runbook",
                    "incident_playbook",
                    "rollback_plan",
                    "monthly_report",
                )
            },
        },
        "datasets": {
            "test_set": "data/test.csv",
            "feedback": "data/feedback.csv",
            "operations": "data/operations.parquet",
        },
        "metrics": {
            "poc": {"experiment": "alpha-poc", "tags": {"team": "a"}},
            "production": {"model": "models:/alpha-model/3"},
        },
        "cost": {"unit": {"pilot": {"users": 20, "cost_per_user": 10.5}}},
        "issues": "data/issues.csv",
        "monitoring": {"experiment": "alpha-monitoring", "alert_rules": "ops/rules.yaml"},
    },
    "recheck": {
        "production": {
            "health": {
                "availability_min": 0.999,
                "latency_ms": {"p95": 800},
                "quality": {"target": 0.9},
            }
        }
    },
    "roadmap": {"start_date": date(2026, 1, 5), "checkpoints": {6: "go to Pilot?"}},
    "components": ["retrieval"],
    "pilot_group": {"early_adopters": True, "description": "tier-1 agents"},
}

#: A valid settings file touching every section.
SETTINGS: dict[str, Any] = {
    "store": {"uri": "ledger"},
    "signing": {"key": "file:keys/gate.pem", "actor": "stagegate"},
    "trusted_keys": [
        {"name": "gate", "path": "keys/gate.pub", "roles": ["gate"]},
        {"name": "dana", "path": "keys/sponsor.pub", "roles": ["sponsor"]},
        {"name": "lee", "path": "keys/budget.pub", "roles": ["budget_owner"], "revoked": False},
    ],
    "alerts": {"webhook_url": "", "timeout_seconds": 5.0},
    "schedule": {"cron": "0 2 * * *", "workers": 4, "max_tasks": 100},
    "promotion": {"approval_timeout_seconds": 0, "approval_poll_seconds": 10},
    "explore": {"weights": {"impact": 1.0, "data": 2}},
    "clock": {"simulated": True, "tolerance_seconds": 300},
    "evidence": {"roots": ["docs"]},
}

HUGE = "1" + "0" * 5000
#: YAML scalars and collections a person could type where a value goes.
YAML_VALUES = [
    ".nan", ".NaN", ".inf", "-.inf", "+.inf", "1.0e+999", "-1.0e+999", HUGE, "-" + HUGE,
    "0x" + "f" * 40, "0b" + "1" * 100, "0o" + "7" * 40, "9223372036854775808",
    "2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "2026-01-01 25:00:00",
    "2026-01-01T10:61:00Z", "2026-01-01T10:00:00+99:00", "12:30:00", "1_000", ".5",
    "[a, b]", "{x: 1}", "null", "~", "true", "no", "on", '""', "-1", "0", "1e3",
    "!!binary AAAA", "!!set {a}", "!!python/object/apply:os.system [true]", "!!omap [a: 1]",
    "!!timestamp 2026-02-30", "!!int " + HUGE, "!!float nan", "!!str", "*undefined",
    "[" * 80 + "]" * 80, "{a: " * 70 + "1" + "}" * 70, '"\\ud800"', '"\\0"', '"\\x1b[31m"',
    '"' + "x" * 20_000 + '"', "'[/bold]'", "'../../../../etc/passwd'", "'/etc/hostname'", "'~nosuchuser/x'",
    "&anchor 1", "[&a [1, 1], *a, *a]",
]  # fmt: skip
#: Keys a person could type: complex, boolean, dates, numbers, unknown names.
YAML_KEYS = [
    "[a, b]", "{x: 1}", "on", "yes", "no", "true", "null", "~", "2026-02-30", "2026-01-05",
    ".nan", "1.5", "1", HUGE, '"[/x]"', "unknown_field", '"\\ud800"', "<<", "!!binary AAAA",
]  # fmt: skip
TOML_VALUES = [
    "nan", "+nan", "-nan", "inf", "+inf", "-inf", "1e999", "-1e999", HUGE, "0x" + "f" * 40,
    "9223372036854775808", "-9223372036854775809", "2026-02-30", "2026-02-30T00:00:00Z",
    "2026-01-01T25:00:00Z", '[1, "a"]', "{ a = 1 }", '"x"', "true", '""', "-1", "0",
    "[" * 1200 + "]" * 1200, '"\\ud800"', '"[/bold]"', '"../../../../etc/passwd"', '"~nosuchuser/x"',
    "1979-05-27", "07:32:00", "[]", "{}", "1_000", "0.1", "1e3",
]  # fmt: skip
JSON_VALUES = [
    "NaN", "Infinity", "-Infinity", "1e999", HUGE, "-" + HUGE, '"\\ud800"', '"\\udc00x"',
    "[" * 3000 + "]" * 3000, "null", "true", "{}", "[]", '""', "-0", "1.0", '"2026-02-30"',
]  # fmt: skip
TEXT_JUNK = [
    b"\xff", b"\xfe\xff", b"\x00", b"\x1b", b"\t", b"\r", b"  ", b"\n", b":", b"- ", b"[",
    b"{", b"&a ", b"*a", b"!!", b"? ", b"#", b"'", b'"', b"\\", b"%YAML 1.1\n", b"---\n",
    "é".encode(), "\u2028".encode(), b"=", b"[[x]]\n", b"a = 1\n",
]  # fmt: skip


@dataclass(frozen=True)
class Raw:
    """Text written as it is into the emitted document."""

    text: str


@dataclass(frozen=True)
class Duplicate:
    """A mapping key written twice (with ``value`` the second time)."""

    value: Any


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value: Any) -> str:
    """Flow-style YAML, one top-level key per line (so lines can be edited)."""
    if isinstance(value, dict):
        return "\n".join(f"{_key(k)}: {_flow(v)}" for k, v in _pairs(value)) + "\n"
    return _flow(value) + "\n"


def _pairs(mapping: dict[Any, Any]) -> list[tuple[Any, Any]]:
    pairs = []
    for k, v in mapping.items():
        if isinstance(v, Duplicate):
            pairs += [(k, v.value), (k, v.value)]
        else:
            pairs.append((k, v))
    return pairs


def _key(key: Any) -> str:
    if isinstance(key, Raw):
        return f"? {key.text}\n" if key.text.startswith(("[", "{")) else key.text
    if isinstance(key, int):
        return str(key)
    return json.dumps(key)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        items = []
        for k, v in _pairs(value):
            key = _key(k).replace("? ", "").rstrip("\n")
            items.append(f"{key}: {_flow(v)}")
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    text = _yaml_scalar(value)
    # Tagged scalars, anchors and aliases are not closed by themselves inside a flow
    # collection; a trailing space keeps the following ',' or '}' theirs.
    return text + " " if text.startswith(("!", "&", "*")) else text


def to_json(value: Any) -> str:
    """JSON text, with raw text and duplicated keys written as they are."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{to_json(_json_key(k))}: {to_json(v)}" for k, v in _pairs(value))
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    return json.dumps(value, default=str)


def _json_key(key: Any) -> Any:
    return (
        key if isinstance(key, Raw) and key.text.startswith('"') else str(getattr(key, "text", key))
    )


def to_toml(settings: dict[str, Any]) -> str:
    """TOML: one table per top-level key, ``[[name]]`` for a list of tables."""
    lines: list[str] = []
    for name, table in settings.items():
        if isinstance(table, list) and table and all(isinstance(t, dict) for t in table):
            for item in table:
                lines.append(f"[[{_toml_key(name)}]]")
                lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in _pairs(item)]
        elif isinstance(table, dict):
            lines.append(f"[{_toml_key(name)}]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in _pairs(table)]
        else:
            lines.insert(0, f"{_toml_key(name)} = {_toml_value(table)}")
    return "\n".join(lines) + "\n"


def _toml_key(key: Any) -> str:
    text = key.text if isinstance(key, Raw) else str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


def _toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        pairs = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in _pairs(value))
        return "{ " + pairs + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


# --- data-level mutations -------------------------------------------------------------------


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    places = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            places += _places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            places += _places(v, (*path, i))
    return places


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def mutate_data(
    rng: random.Random, document: dict[str, Any], *, toml: bool, values: list[str] | None = None
) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """One hostile edit at one place; returns (description, path, edited copy)."""
    doc = _copy(document)
    places = [p for p in _places(doc) if p and not (toml and len(p) == 1)]
    path = rng.choice(places)
    parent = _parent(doc, path)
    last = path[-1]
    where = ".".join(map(str, path))
    values = values or (TOML_VALUES if toml else YAML_VALUES)
    op = rng.randrange(6)
    if op <= 1:
        raw = rng.choice(values)
        parent[last] = Raw(raw)
        return f"{where} = {raw[:30]!r}", path, doc
    if op == 2 and isinstance(parent, dict):
        if toml:  # TOML keys are text: an unknown one, or one written twice
            parent["unknown_" + str(rng.randrange(9))] = Raw(rng.choice(values))
            return f"unknown field next to {where}", path, doc
        key = rng.choice(YAML_KEYS)
        parent[Raw(key)] = parent.pop(last)
        return f"key {where} -> {key[:30]!r}", path, doc
    if op == 3 and isinstance(parent, dict):
        parent[last] = Duplicate(parent[last])
        return f"duplicate key {where}", path, doc
    if op == 4 and isinstance(parent, dict):
        parent.pop(last)
        return f"drop {where}", path, doc
    swapped = rng.choice([[parent[last]], {"x": parent[last]}, str(parent[last]), 3, None])
    parent[last] = swapped if not toml or swapped is not None else "null"
    return f"{where} retyped", path, doc


# --- text-level mutations -------------------------------------------------------------------


def mutate_text(rng: random.Random, text: bytes) -> tuple[str, bytes]:
    data = bytearray(text)
    lines = text.split(b"\n")
    op = rng.randrange(6)
    at = rng.randrange(len(data) + 1)
    if op == 0 and data:
        pos = min(at, len(data) - 1)
        data[pos] ^= rng.randrange(1, 256)
        return f"flip byte {pos}", bytes(data)
    if op == 1:
        junk = rng.choice(TEXT_JUNK)
        return f"insert {junk[:20]!r} at {at}", bytes(data[:at]) + junk + bytes(data[at:])
    if op == 2:
        return f"truncate at {at}", bytes(data[:at])
    if op == 3:
        i = rng.randrange(len(lines))
        return f"duplicate line {i + 1}", b"\n".join([*lines[: i + 1], *lines[i:]])
    if op == 4:
        i = rng.randrange(len(lines))
        return f"drop line {i + 1}", b"\n".join([*lines[:i], *lines[i + 1 :]])
    i = rng.randrange(len(lines))
    indent = rng.choice([b" ", b"  ", b"\t", b"    "])
    return f"indent line {i + 1}", b"\n".join([*lines[:i], indent + lines[i], *lines[i + 1 :]])
