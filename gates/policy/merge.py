"""Merging policy layers and naming what pydantic refused, shared by every policy model."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Overrides win; mappings merge key by key; lists and scalars are replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` that ``name`` is probably a misspelling of, if any."""
    # A little below difflib's 0.6, so that swapped letters ("singing") still find their word.
    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.55)
    return close[0] if close else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'sponsors'?"`` when ``name`` is close to one of ``known``, else ``""``."""
    close = closest(name, known)
    return f"; did you mean {close!r}?" if close else ""


def pydantic_problems(
    error: ValidationError, *, prefix: str = "", model: type[BaseModel] | None = None
) -> list[str]:
    """Turn a pydantic error into 'field.path: what was expected' lines, in plain words.

    ``model`` is the model that was validated: an unknown field is then compared with
    the fields that model has at that place, to suggest the one that was meant.
    """
    problems = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        where = ".".join(p for p in (prefix, loc) if p)
        msg = plain_message(item)
        if item["type"] == "extra_forbidden" and model is not None and item["loc"]:
            *parent, name = item["loc"]
            msg += did_you_mean(str(name), fields_at(model, parent))
        problems.append(f"{where}: {msg}" if where else msg)
    return problems


#: What a value of each kind is called in a settings file or spec (TOML and YAML alike).
_KINDS = {
    "dict_type": "a mapping (a YAML mapping or a TOML table)",
    "model_type": "a mapping (a YAML mapping or a TOML table)",
    "model_attributes_type": "a mapping (a YAML mapping or a TOML table)",
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def plain_message(item: Any) -> str:
    """One pydantic error item in the words of the file it came from, never pydantic's own."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    found = _found(item.get("input"))
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in _KINDS:
        detail = ctx.get("error")
        because = f" ({detail})" if isinstance(detail, str) and detail else ""
        return f"expected {_KINDS[kind]}, found {found}{because}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the listed values')}, found {found}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx.get(key)}, found {found}"
    if kind == "too_short":
        return (
            f"must have at least {ctx.get('min_length')} item(s), found {ctx.get('actual_length')}"
        )
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s)"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else str(item["msg"])
    if kind == "finite_number":
        return f"must be a finite number, found {found}"
    msg = str(item["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg.replace("Input should be", "must be")


def _found(value: Any) -> str:
    """What was given, named by its kind and shortened: the value itself may be long."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def fields_at(model: type[BaseModel], path: Sequence[int | str]) -> list[str]:
    """The field names of the model found at ``path`` inside ``model`` (none if not a model).

    List indexes and mapping keys along the path are stepped over, so that
    ``evidence.metrics.poc`` leads to the run selector's fields.
    """
    annotation: Any = model
    for step in path:
        annotation = _step(annotation, step)
        if annotation is None:
            return []
    models = [a for a in _alternatives(annotation) if _is_model(a)]
    return [name for m in models for name in m.model_fields]


def _step(annotation: Any, step: int | str) -> Any:
    for option in _alternatives(annotation):
        if _is_model(option):
            field = option.model_fields.get(str(step))
            if field is not None:
                return field.annotation
        origin = get_origin(option)
        if origin in (list, tuple, set, frozenset) and isinstance(step, int):
            return get_args(option)[0]
        if origin is dict:
            return get_args(option)[1]
    return None


def _alternatives(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(a for a in get_args(annotation) if a is not type(None))
    return (annotation,)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
