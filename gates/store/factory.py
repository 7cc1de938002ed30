"""Open an artifact store from a URI: ``s3://bucket/prefix``, ``file:///path`` or a path."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from gates.errors import StoreError
from gates.store.interface import ObjectStore
from gates.store.local import LocalStore

__all__ = ["open_store"]

_EXPECTED = "expected s3://bucket[/prefix], file:///absolute/path or a folder path"


def open_store(uri: str) -> ObjectStore:
    """The store that ``uri`` names; a local folder is created if it does not exist yet."""
    text = uri.strip()
    if not text:
        raise StoreError("empty store URI", hint=_EXPECTED)
    if "://" not in text:
        return _local(Path(text).expanduser(), uri)

    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        if not parts.netloc:
            raise StoreError(f"store URI {uri!r} names no bucket", hint=_EXPECTED)
        if parts.query or parts.fragment:
            raise StoreError(f"store URI {uri!r} has a query or fragment", hint=_EXPECTED)
        # Imported here: a folder store never needs S3's thread pool and retry machinery.
        from gates.store.s3 import S3Store

        return S3Store(parts.netloc, parts.path.strip("/"))
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StoreError(
                f"store URI {uri!r} names host {parts.netloc!r}; only local folders work",
                hint=_EXPECTED,
            )
        path = Path(unquote(parts.path))
        if not path.is_absolute():
            raise StoreError(f"store URI {uri!r} is not an absolute path", hint=_EXPECTED)
        return _local(path, uri)
    raise StoreError(f"unsupported store URI {uri!r}: {_EXPECTED}")


def _local(path: Path, uri: str) -> LocalStore:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create store folder for {uri!r}: {e}", hint=_EXPECTED) from e
    return LocalStore(path)
