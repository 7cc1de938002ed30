"""Read a dataset (CSV or Parquet; local path or s3:// URL) and bind it by SHA-256.

The bytes are hashed as read, then parsed from the same bytes, so the digest in the
evidence is exactly what was checked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from gates.canonical import sha256_hex
from gates.errors import EvidenceError
from gates.results import Evidence

if TYPE_CHECKING:
    import pandas as pd

SUPPORTED = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class LoadedDataset:
    uri: str
    digest: str
    frame: pd.DataFrame

    @property
    def rows(self) -> int:
        return len(self.frame)

    def evidence(self, **details: object) -> Evidence:
        return Evidence(
            kind="dataset",
            uri=self.uri,
            digest=self.digest,
            details={"rows": self.rows, "columns": list(map(str, self.frame.columns)), **details},
        )


def read_bytes(location: str) -> bytes:
    """Bytes of a local file or an ``s3://bucket/key`` object (endpoint from AWS_ENDPOINT_URL)."""
    if location.startswith("s3://"):
        return _read_s3(location)
    if "://" in location:
        raise EvidenceError(f"{location}: unsupported scheme; expected a local path or s3://")
    path = Path(location)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EvidenceError(f"{location}: file not found") from None
    except IsADirectoryError:
        raise EvidenceError(f"{location}: is a folder, expected a file") from None
    except OSError as e:
        raise EvidenceError(f"{location}: cannot read ({e.strerror})") from e


def _read_s3(location: str) -> bytes:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    parsed = urlparse(location)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if not bucket or not key:
        raise EvidenceError(f"{location}: expected s3://BUCKET/KEY")
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        data: bytes = body.read()
        return data
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "?")
        raise EvidenceError(f"{location}: S3 refused the read ({code})") from e
    except BotoCoreError as e:
        raise EvidenceError(f"{location}: S3 unreachable ({e})") from e


def load_dataset(location: str) -> LoadedDataset:
    """Read, hash and parse a dataset; any problem is an EvidenceError naming it."""
    import pandas as pd

    suffix = Path(urlparse(location).path).suffix.lower()
    if suffix not in SUPPORTED:
        raise EvidenceError(
            f"{location}: unsupported dataset format {suffix!r}; expected CSV or Parquet"
        )
    data = read_bytes(location)
    try:
        if suffix == ".csv":
            frame = pd.read_csv(io.BytesIO(data))
        else:
            frame = pd.read_parquet(io.BytesIO(data))
    except Exception as e:  # pandas/pyarrow raise many types for malformed input
        raise EvidenceError(f"{location}: cannot parse as {suffix[1:]} ({e})") from e
    return LoadedDataset(uri=location, digest="sha256:" + sha256_hex(data), frame=frame)


def file_evidence(location: str, kind: str = "file") -> Evidence:
    """Hash a file (deliverable, issues list) into evidence; EvidenceError if unreadable."""
    data = read_bytes(location)
    return Evidence(
        kind=kind, uri=location, digest="sha256:" + sha256_hex(data), details={"bytes": len(data)}
    )
