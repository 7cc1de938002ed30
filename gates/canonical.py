"""Canonical JSON and digests: the bytes that digests and signatures are computed over.

Canonical form (see docs/adr/0002-canonical-json.md): UTF-8, keys sorted, no
insignificant whitespace, no NaN/Infinity. Same value in, same bytes out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_of(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + sha256_hex(canonical_json(value))
