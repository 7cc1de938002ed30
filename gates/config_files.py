"""The one reader of the YAML and TOML files people write: specs, settings, policies, lists.

Strict where the parsers are lenient, and never a traceback: duplicate keys (PyYAML keeps
the last one silently), impossible dates (``2026-02-30``; PyYAML raises ``ValueError``),
complex keys (``? [a, b]``), integers of thousands of digits (past Python's int/str
limit), NaN and infinities (``.nan``, ``nan``, ``1e999``), self-referencing or exploding
aliases and deep nesting all become problems naming the file and the field (or line).
Everything here raises ``ConfigError``; callers reading evidence re-raise it as theirs.
"""

from __future__ import annotations

import io
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gates.errors import ConfigError

#: Deeper than any file stagegate reads needs; deeper structures only serve to exhaust
#: the recursion of whatever reads them next.
MAX_DEPTH = 64
#: Values after alias expansion: a "billion laughs" file stays small on disk only.
MAX_VALUES = 1_000_000
#: TOML's own integer range, and far past any count, budget or week in a spec.
INT_LIMIT = 2**63

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Unreadable:
    """A scalar the YAML parser could not turn into a value, kept to be named with its field."""

    problem: str
    line: int

    def __str__(self) -> str:
        return f"<{self.problem}>"


class _StrictLoader(yaml.CSafeLoader):
    pass


def _mark_line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping that refuses duplicate keys and keeps unhashable keys as named problems."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue  # ``<<: *base`` merges; explicit keys may override what it brings
        key = loader.construct_object(key_node, deep=True)
        if not _hashable(key):
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not _hashable(key):
            kind = "sequence" if isinstance(key, list) else type(key).__name__
            key = Unreadable(f"a {kind} used as a key", _mark_line(key_node))
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _int(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        digits = len(str(node.value))
        return Unreadable(f"an integer of {digits} characters, too large", _mark_line(node))


def _timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return Unreadable(f"{node.value!r} is not a valid date or time", _mark_line(node))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def parse_yaml(text: str, source: str) -> Any:
    """One YAML document from ``text``; ConfigError naming ``source`` for every bad value."""
    stream = io.StringIO(text)
    stream.name = source  # PyYAML names the stream in its messages
    try:
        data = yaml.load(stream, Loader=_StrictLoader)
    except yaml.YAMLError as e:
        raise ConfigError(source, [f"not valid YAML: {e}"]) from e
    except RecursionError as e:
        raise ConfigError(source, ["not valid YAML: nested too deeply"]) from e
    problems = value_problems(data)
    if problems:
        raise ConfigError(source, problems)
    return data


def read_yaml(path: Path, *, encoding: str = "utf-8") -> Any:
    """Read and parse a YAML file; ConfigError naming it if unreadable, not UTF-8 or bad."""
    return parse_yaml(_read_text(path, encoding), str(path))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """A TOML document; ConfigError naming ``source`` for syntax errors and bad values."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(source, [f"not valid TOML: {e}"]) from e
    except ValueError as e:  # an integer past the int/str conversion limit
        raise ConfigError(source, [f"{_long_number_where(text)}: {_limit_text(e)}"]) from e
    except RecursionError as e:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(source, ["not valid TOML: nested too deeply"]) from e
    problems = value_problems(data)
    if problems:
        raise ConfigError(source, problems)
    return data


def read_toml(path: Path) -> dict[str, Any]:
    """Read and parse a TOML file; ConfigError naming it if unreadable, not UTF-8 or bad."""
    return parse_toml(_read_text(path, "utf-8"), str(path))


def _read_text(path: Path, encoding: str) -> str:
    try:
        return path.read_text(encoding)
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read: {e.strerror or e}"]) from e
    except UnicodeDecodeError as e:
        raise ConfigError(
            str(path), [f"not UTF-8 text (byte {e.start}: {e.object[e.start : e.start + 1]!r})"]
        ) from e


_LONG_NUMBER = re.compile(r"[0-9][0-9_]{999,}")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"' ]+?)\s*=")


def _long_number_where(text: str) -> str:
    """``line N (field K)`` of the first enormous number in a TOML text, for the message."""
    for number, line in enumerate(text.splitlines(), start=1):
        if _LONG_NUMBER.search(line):
            key = _TOML_KEY.match(line)
            return f"line {number}" + (f" (field {key.group(1)})" if key else "")
    return "a number"


def _limit_text(error: ValueError) -> str:
    return f"an integer too large to read ({str(error).split(';')[0]})"


def value_problems(data: Any) -> list[str]:
    """Every value stagegate refuses, as ``field.path: what is wrong`` lines.

    Refused: NaN and infinities; integers outside 64 bits; keys that are not text or
    integers (lists, dates, booleans such as an unquoted ``on:``); scalars the parser
    could not read (impossible dates, enormous integers); self-references; nesting
    deeper than ``MAX_DEPTH``; more than ``MAX_VALUES`` values after alias expansion.
    """
    walk = _Walk()
    if walk.visit(data, "", 0) > MAX_VALUES:
        walk.problem("", f"expands to more than {MAX_VALUES:,} values (through aliases)")
    return walk.problems


class _Walk:
    def __init__(self) -> None:
        self.problems: list[str] = []
        #: Expanded sizes of containers already walked: aliases share objects, and each
        #: is walked once, so a "billion laughs" file costs what it weighs on disk.
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def problem(self, path: str, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(f"{path or '(top)'}: {text}")

    def visit(self, value: Any, path: str, depth: int) -> int:
        """Check ``value``; return how many values it expands to."""
        if not isinstance(value, (dict, list, set, tuple)):
            self._scalar(value, path)
            return 1
        ident = id(value)
        if ident in self.open:
            self.problem(path, "refers to itself (a recursive alias)")
            return 1
        if ident in self.sizes:
            return self.sizes[ident]
        if depth >= MAX_DEPTH:
            self.problem(path, f"nested more than {MAX_DEPTH} levels deep")
            self.sizes[ident] = 1
            return 1
        self.open.add(ident)
        size = 1 + sum(
            self.visit(item, _join(path, key), depth + 1) for key, item in self._items(value, path)
        )
        self.open.discard(ident)
        self.sizes[ident] = size
        return size

    def _items(self, value: Any, path: str) -> list[tuple[Any, Any]]:
        if isinstance(value, dict):
            for key in value:
                self._key(key, path)
            return list(value.items())
        return list(enumerate(value))

    def _key(self, key: Any, path: str) -> None:
        if isinstance(key, Unreadable):
            self.problem(path, f"{key.problem} (line {key.line}); keys are plain text")
        elif isinstance(key, bool) or not isinstance(key, (str, int)):
            what = "a boolean" if isinstance(key, bool) else f"a {type(key).__name__}"
            self.problem(
                _join(path, key), f"this key was read as {what}; keys are plain text (quote it)"
            )
        else:
            self._scalar(key, _join(path, key))

    def _scalar(self, value: Any, path: str) -> None:
        if isinstance(value, Unreadable):
            self.problem(path, f"{value.problem} (line {value.line})")
        elif isinstance(value, float) and not math.isfinite(value):
            self.problem(path, f"{value} is not a finite number")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT_LIMIT:
            self.problem(path, "an integer outside the 64-bit range")


def _join(path: str, key: Any) -> str:
    text = key.problem if isinstance(key, Unreadable) else str(key)
    return f"{path}.{text}" if path else text
