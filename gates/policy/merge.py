"""Merging policy layers and naming what pydantic refused, shared by every policy model."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Overrides win; mappings merge key by key; lists and scalars are replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def pydantic_problems(error: ValidationError, *, prefix: str = "") -> list[str]:
    """Turn a pydantic error into 'field.path: what was expected' lines."""
    problems = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        where = ".".join(p for p in (prefix, loc) if p)
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown field"
        elif item["type"] == "missing":
            msg = "required field is missing"
        problems.append(f"{where}: {msg}" if where else msg)
    return problems
