"""PKCS#11 URIs (RFC 7512): which module, token, key and PIN a ``pkcs11:`` signer uses.

Parsing only, no PKCS#11 library: ``stagegate validate`` and error messages need it
without a token present. The PIN never has to be written in the settings file: it can
come from ``pin-source=env:NAME``, ``pin-source=file:/path`` or ``STAGEGATE_PKCS11_PIN``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

from gates.errors import SigningError

SCHEME = "pkcs11"
#: The PIN when the URI names none; the module when it has no ``module-path``.
PIN_ENV = "STAGEGATE_PKCS11_PIN"
MODULE_ENV = "STAGEGATE_PKCS11_MODULE"

_PATH_ATTRIBUTES = frozenset({"token", "serial", "object", "id", "type"})
_QUERY_ATTRIBUTES = frozenset({"module-path", "pin-value", "pin-source"})


@dataclass(frozen=True)
class Pkcs11Uri:
    """The parts of a ``pkcs11:`` URI stagegate uses to find one Ed25519 private key."""

    text: str
    token: str | None = None
    serial: str | None = None
    object: str | None = None
    id: bytes | None = None
    module_path: str | None = None
    pin_value: str | None = None
    pin_source: str | None = None

    @property
    def redacted(self) -> str:
        """The URI as it may be printed: a ``pin-value`` is masked."""
        if self.pin_value is None:
            return self.text
        head, _, query = self.text.partition("?")
        parts = ["pin-value=***" if p.startswith("pin-value=") else p for p in query.split("&")]
        return f"{head}?{'&'.join(parts)}"

    def error(self, part: str, problem: str) -> SigningError:
        """One message naming this URI (PIN masked) and the part that is wrong."""
        return SigningError(f"signing key {self.redacted}: {part}: {problem}")

    def module(self) -> str:
        module = self.module_path or os.environ.get(MODULE_ENV, "")
        if not module:
            raise self.error(
                "module-path", f"no PKCS#11 module named (add ?module-path=... or set {MODULE_ENV})"
            )
        return module

    def pin(self) -> str | None:
        """The user PIN, or None to use the token without logging in."""
        if self.pin_value is not None:
            return self.pin_value
        if self.pin_source is None:
            return os.environ.get(PIN_ENV) or None
        scheme, _, where = self.pin_source.partition(":")
        if scheme == "env" and where:
            value = os.environ.get(where)
            if value is None:
                raise self.error("pin-source", f"environment variable {where} is not set")
            return value
        if scheme == "file" and where:
            path = Path(where.removeprefix("//"))
            try:
                return path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as e:
                raise self.error("pin-source", f"cannot read the PIN from {path} ({e})") from e
        raise self.error(
            "pin-source", f"{self.pin_source!r}: expected env:VARIABLE or file:/path/to/pin"
        )


def parse_pkcs11_uri(text: str) -> Pkcs11Uri:
    """Parse ``pkcs11:token=...;object=...?module-path=...&pin-source=env:PIN``."""
    shown = text if "pin-value=" not in text else text.split("?", 1)[0] + "?…"
    scheme, sep, rest = text.partition(":")
    if not sep or scheme != SCHEME:
        raise SigningError(f"signing key {shown}: not a pkcs11: URI")
    path, _, query = rest.partition("?")
    values: dict[str, str] = {}
    key_id: bytes | None = None
    for attrs, allowed, sep_char in (
        (path, _PATH_ATTRIBUTES, ";"),
        (query, _QUERY_ATTRIBUTES, "&"),
    ):
        for item in filter(None, attrs.split(sep_char)):
            name, eq, raw = item.partition("=")
            if not eq:
                raise SigningError(f"signing key {shown}: {name!r}: expected name=value")
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                where = "path" if sep_char == ";" else "query"
                raise SigningError(
                    f"signing key {shown}: {name}: not a supported {where} attribute "
                    f"(supported: {known})"
                )
            if name in values or (name == "id" and key_id is not None):
                raise SigningError(f"signing key {shown}: {name}: given twice")
            if name == "id":
                key_id = unquote_to_bytes(raw)
                continue
            try:
                values[name] = unquote(raw, errors="strict")
            except UnicodeDecodeError as e:
                raise SigningError(f"signing key {shown}: {name}: not UTF-8 once decoded") from e
    uri = Pkcs11Uri(
        text=text,
        token=values.get("token"),
        serial=values.get("serial"),
        object=values.get("object"),
        id=key_id,
        module_path=values.get("module-path"),
        pin_value=values.get("pin-value"),
        pin_source=values.get("pin-source"),
    )
    if values.get("type", "private") != "private":
        raise uri.error("type", f"{values['type']!r}: a signer needs type=private (or no type)")
    if uri.object is None and uri.id is None:
        raise uri.error("object", "names no key: give object=LABEL or id=%XX...")
    if uri.pin_value is not None and uri.pin_source is not None:
        raise uri.error("pin-value", "give pin-value or pin-source, not both")
    return uri
