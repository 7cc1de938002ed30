"""Evidence locations as an entry records them: the same on every machine that has the workspace.

A check reads a file by its absolute path on the machine that runs the gate
(``/tmp/run-42/ws/data/poc_test_set.csv``); the signed entry should say where the file
is in the workspace (``data/poc_test_set.csv``), so entries, reports and bundles read the
same wherever the ledger is opened. A file in an ``[evidence] roots`` folder outside the
workspace is named from that root as the settings write it (``../team-data/x.csv``,
``/srv/shared-reports/x.csv``); a SQLite MLflow store inside the workspace becomes the
workspace-relative ``sqlite:///mlflow.db`` the settings use. Anything else (URLs, run
ids, paths elsewhere) stays as it was: a location is rewritten only when it is certain
where it points.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from gates.results import CheckResult, Evidence
from gates.workspace.loader import Workspace

SQLITE = "sqlite:///"
#: Keys of evidence details that hold a location (``daily_spend.uri``, ``tracking_uri``).
LOCATION_KEYS = frozenset({"uri", "tracking_uri"})


def _under(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` in POSIX form, when it is inside it."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return None
    return PurePosixPath(*relative.parts).as_posix()


def _portable_path(workspace: Workspace, text: str) -> str:
    path = Path(text)
    if not path.is_absolute():
        return text
    # Both the path as written and as resolved: a workspace reached through a symlink
    # (macOS /tmp, a mounted checkout) is still the workspace.
    forms = [path]
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        forms.append(path.resolve())
    roots: list[tuple[Path, str | None]] = [(workspace.root, None)]
    roots += [(Path(workspace.resolve(r)), r) for r in workspace.settings.evidence.roots]
    for root, declared in roots:
        candidates = [root]
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            candidates.append(root.resolve())
        for form in forms:
            for base in candidates:
                inside = _under(form, base)
                if inside is None:
                    continue
                if declared is None:
                    return inside or "."
                return f"{declared.rstrip('/')}/{inside}" if inside != "." else declared
    return text


def portable_location(workspace: Workspace, location: str) -> str:
    """The form of ``location`` to record: workspace- or root-relative when it is a local path."""
    if location.startswith(SQLITE + "/"):
        database, sep, fragment = location[len(SQLITE) :].partition("#")
        shown = _portable_path(workspace, database)
        if shown != database:
            return SQLITE + shown + sep + fragment
        return location
    if "://" in location or location.startswith(("runs:/", "models:/")):
        return location
    return _portable_path(workspace, location)


def _portable_details(workspace: Workspace, value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: portable_location(workspace, item)
            if key in LOCATION_KEYS and isinstance(item, str)
            else _portable_details(workspace, item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_portable_details(workspace, item) for item in value]
    return value


def portable_evidence(workspace: Workspace, evidence: Evidence) -> Evidence:
    return replace(
        evidence,
        uri=portable_location(workspace, evidence.uri),
        details=_portable_details(workspace, evidence.details),
    )


def portable_results(
    workspace: Workspace, results: tuple[CheckResult, ...]
) -> tuple[CheckResult, ...]:
    """Every result with its evidence locations in their recorded form."""
    return tuple(
        replace(r, evidence=tuple(portable_evidence(workspace, e) for e in r.evidence))
        for r in results
    )
