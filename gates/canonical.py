"""Canonical JSON and digests: the bytes that digests and signatures are computed over.

Canonical form (see docs/adr/0002-canonical-json.md): UTF-8, keys sorted, no
insignificant whitespace, no NaN/Infinity. Same value in, same bytes out.

The same rules hold for reading: ``strict_json_loads`` refuses the NaN and Infinity
literals that Python's ``json`` accepts by default, so a number that could not have
been signed canonically is never read back as one.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

#: Integers past this many decimal digits cannot be written as JSON by Python (its
#: int/str conversion limit); canonical JSON refuses them with a name instead.
MAX_INT_DIGITS = 4300


class NonCanonicalValue(ValueError):
    """A value with no canonical JSON form (NaN, an infinity, an enormous integer).

    A bug guard: inputs are refused at the edge (typed models, the config loaders), so
    reaching this means something let such a value through. Never signed, never as null.
    """


def canonical_json(value: Any) -> bytes:
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except UnicodeEncodeError as e:
        raise NonCanonicalValue(f"refusing to encode a lone surrogate: {e}") from e
    except RecursionError as e:
        raise NonCanonicalValue("refusing to encode a value nested too deeply") from e
    except ValueError as e:
        where = _first_non_canonical(value, "$")
        raise NonCanonicalValue(
            f"refusing to encode {where or 'a value'} as canonical JSON: {e}"
        ) from e


def _first_non_canonical(value: Any, path: str) -> str | None:
    """JSON path of the first NaN, infinity or enormous integer in ``value`` (error path only)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} ({value!r})"
    if isinstance(value, int) and not isinstance(value, bool):
        return (
            f"{path} (an integer of over {MAX_INT_DIGITS} digits)"
            if abs(value) >= 10**MAX_INT_DIGITS
            else None
        )
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_non_canonical(item, f"{path}.{key}")
        if found:
            return found
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number stagegate accepts")


#: One decoder for every call: ``json.loads`` with an option builds a new one each time,
#: which costs as much as decoding a ledger entry's payload.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def strict_json_loads(data: bytes | str) -> Any:
    """``json.loads`` minus NaN/Infinity and lone surrogates; ValueError for anything
    malformed, too deep, or with no canonical form."""
    try:
        text = json_text(data) if isinstance(data, (bytes, bytearray)) else data
        if text.startswith("\ufeff"):
            raise ValueError("JSON text starts with a byte order mark")
        value = _DECODER.decode(text)
    except RecursionError as e:
        raise ValueError("JSON nested too deeply") from e
    # The substring test first: far cheaper than the pattern, and most texts have no "\u".
    if isinstance(data, str):
        escaped = "\\u" in data and _SURROGATE_ESCAPE.search(data) is not None
    else:
        escaped = b"\\u" in data and _SURROGATE_ESCAPE_BYTES.search(data) is not None
    if escaped:
        # A surrogate pair spells one character; a lone one is no character and has no
        # UTF-8 form, so nothing holding it could be digested or shown.
        _refuse_lone_surrogates(value)
    return value


def json_text(data: bytes | bytearray) -> str:
    """JSON bytes as text, decoded exactly as ``json.loads`` decodes them: UTF-8, -16 or
    -32 as ``json.detect_encoding`` tells from the first bytes, lone surrogates kept for
    the caller to refuse. A text opening with "{" and a second byte that is not NUL is
    UTF-8 to ``detect_encoding`` (no byte order mark starts with "{"): every stored
    entry and envelope, told without asking it."""
    encoding = "utf-8" if data[:1] == b"{" and data[1:2] != b"\x00" else json.detect_encoding(data)
    return data.decode(encoding, "surrogatepass")


def _refuse_lone_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError("a string holds a lone surrogate (no Unicode character)") from e
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_of(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + sha256_hex(canonical_json(value))
