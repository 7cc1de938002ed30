"""Check kind ``deliverables``: each required deliverable is declared, present and hashed.

A deliverable is a file or a folder (a prototype, a dashboard export) at a path relative
to the workspace, or an ``s3://`` object. A folder is bound by the SHA-256 of its
manifest: one ``<sha256>  <relative path>`` line per file, sorted by path (the format
``sha256sum`` prints, so an auditor can rebuild it with standard tools).

A missing or empty deliverable fails the check (it was not delivered); a deliverable
that exists but cannot be read is an error.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gates.canonical import sha256_hex
from gates.checks.interface import CheckContext, error_result
from gates.errors import EvidenceError
from gates.evidence.datasets import read_bytes
from gates.results import CheckResult, Evidence, Status

if TYPE_CHECKING:
    from gates.workspace.loader import Workspace

KIND = "deliverables"
#: Folders with more files than this keep only the manifest digest and counts in details.
MANIFEST_DETAIL_LIMIT = 200
_CHUNK = 1 << 20


def run(ctx: CheckContext) -> list[CheckResult]:
    return [check_deliverable(ctx, name) for name in ctx.criteria.deliverables]


def check_deliverable(ctx: CheckContext, name: str) -> CheckResult:
    check = f"deliverable:{name}"
    location = ctx.usecase.evidence.deliverables.get(name)
    if location is None:
        reason = f"deliverable {name} not declared (set evidence.deliverables.{name})"
        return CheckResult(check, KIND, Status.FAIL, reason, None, "declared, non-empty")
    try:
        resolved = ctx.workspace.evidence_path(location)
        if resolved.startswith("s3://"):
            evidence = _object_evidence(location, resolved)
        else:
            evidence = _local_evidence(location, Path(resolved), ctx.workspace)
    except _NotDelivered as e:
        reason = f"deliverable {name}: {e}"
        return CheckResult(check, KIND, Status.FAIL, reason, None, "present, non-empty")
    except EvidenceError as e:
        return error_result(check, KIND, f"deliverable {name}: {e.message}")
    size = evidence.details.get("bytes", 0)
    files = evidence.details.get("files")
    what = f"folder of {files} files, {size:,} bytes" if files is not None else f"{size:,} bytes"
    reason = f"deliverable {name} present at {location} ({what})"
    return CheckResult(check, KIND, Status.PASS, reason, what, "present, non-empty", (evidence,))


class _NotDelivered(Exception):
    """The deliverable is absent or empty: a criterion not met, not a broken source."""


def _object_evidence(location: str, url: str) -> Evidence:
    if url.endswith("/"):
        raise EvidenceError(f"{location}: S3 folders are not supported; name one object")
    try:
        data = read_bytes(url)
    except EvidenceError as e:
        if "(NoSuchKey)" in e.message or "(404)" in e.message:
            raise _NotDelivered(f"{location} not found") from e
        raise
    if not data:
        raise _NotDelivered(f"{location} is empty")
    return Evidence(
        kind="deliverable",
        uri=location,
        digest="sha256:" + sha256_hex(data),
        details={"bytes": len(data)},
    )


def _local_evidence(location: str, path: Path, workspace: Workspace) -> Evidence:
    if not path.exists():
        raise _NotDelivered(f"{location} not found (looked at {path})")
    if path.is_dir():
        return _folder_evidence(location, path, workspace)
    if not path.is_file():
        raise EvidenceError(f"{location}: not a regular file or folder")
    digest, size = _hash_file(location, path)
    if size == 0:
        raise _NotDelivered(f"{location} is empty")
    return Evidence(kind="deliverable", uri=location, digest=digest, details={"bytes": size})


def _hash_file(location: str, path: Path) -> tuple[str, int]:
    """Streamed SHA-256, so a large prototype artifact is never held in memory."""
    hasher = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                hasher.update(chunk)
                size += len(chunk)
    except OSError as e:
        raise EvidenceError(f"{location}: cannot read {path} ({e.strerror})") from e
    return "sha256:" + hasher.hexdigest(), size


def folder_manifest(
    location: str, folder: Path, workspace: Workspace
) -> tuple[list[tuple[str, str, int]], bytes]:
    """``(relative path, sha256 hex, bytes)`` per file, sorted, and the manifest bytes.

    Every file must stay inside the evidence roots too: a folder inside the workspace may
    hold a link to a file outside it.
    """
    entries = []

    def unreadable(error: OSError) -> None:
        # os.walk skips unreadable folders by default, which would hash a partial folder.
        raise EvidenceError(f"{location}: cannot list {error.filename} ({error.strerror})")

    for current, _dirs, files in os.walk(folder, onerror=unreadable):
        for filename in files:
            path = Path(current, filename)
            relative = path.relative_to(folder).as_posix()
            workspace.contain(path, f"{location}/{relative}")
            if not path.is_file():  # dangling symlink or special file
                raise EvidenceError(f"{location}: {relative} is not a readable file")
            digest, size = _hash_file(f"{location}/{relative}", path)
            entries.append((relative, digest.removeprefix("sha256:"), size))
    entries.sort()
    manifest = "".join(f"{hex_digest}  {relative}\n" for relative, hex_digest, _ in entries)
    return entries, manifest.encode("utf-8")


def _folder_evidence(location: str, folder: Path, workspace: Workspace) -> Evidence:
    entries, manifest = folder_manifest(location, folder, workspace)
    total = sum(size for _, _, size in entries)
    if total == 0:
        raise _NotDelivered(f"{location} is a folder with no non-empty file")
    details: dict[str, Any] = {
        "files": len(entries),
        "bytes": total,
        "digest_of": "sha256sum-style manifest of the folder's files, sorted by path",
    }
    if len(entries) <= MANIFEST_DETAIL_LIMIT:
        details["manifest"] = [
            {"path": relative, "sha256": hex_digest, "bytes": size}
            for relative, hex_digest, size in entries
        ]
    return Evidence(
        kind="deliverable",
        uri=location,
        digest="sha256:" + sha256_hex(manifest),
        details=details,
    )
