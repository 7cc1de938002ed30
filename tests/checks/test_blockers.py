"""The blockers check and the strict issue-export loader behind it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gates.checks import blockers
from gates.checks.interface import CheckContext
from gates.errors import EvidenceError
from gates.evidence.issues import load_issues
from gates.results import CheckResult, Status
from gates.stages import Stage

if TYPE_CHECKING:
    from tests.support.check_context import MakeCtx, WriteRows, WriteText


def issue(number: int, **fields: str) -> dict[str, str]:
    row = {
        "id": f"ISS-{number}",
        "title": f"Issue {number}",
        "kind": "issue",
        "severity": "minor",
        "status": "open",
    }
    return row | fields


def only(ctx: CheckContext) -> CheckResult:
    results = blockers.run(ctx)
    assert len(results) == 1, results
    assert results[0].check == "blockers:open"
    return results[0]


def poc_ctx(make_ctx: MakeCtx, issues: str | None, **criteria: Any) -> CheckContext:
    evidence = {"issues": issues} if issues is not None else {}
    return make_ctx(stage=Stage.POC, evidence=evidence, criteria=criteria or None)


def test_no_open_blocker_passes(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    path = write_rows(
        "issues.csv", [issue(1), issue(2, kind="blocker", status="closed", severity="critical")]
    )

    result = only(poc_ctx(make_ctx, path))

    assert result.status is Status.PASS
    assert result.observed == "0 open blockers"
    assert result.expected == "≤ 0 open blockers"


def test_open_blocker_fails_naming_it(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    rows = [issue(1), issue(7, kind="blocker", title="GPU quota refused", severity="major")]
    path = write_rows("issues.yaml", rows)

    result = only(poc_ctx(make_ctx, path))

    assert result.status is Status.FAIL
    assert "ISS-7 (GPU quota refused)" in result.reason
    assert "ISS-1" not in result.reason
    assert result.observed == "1 open blockers"


def test_blocker_limit_override_allows_one(make_ctx: MakeCtx, write_rows: WriteRows) -> None:
    path = write_rows("issues.json", [issue(7, kind="blocker")])

    result = only(poc_ctx(make_ctx, path, open_blockers_max=1))

    assert result.status is Status.PASS
    assert "ISS-7" in result.reason


def test_evidence_binds_the_export_bytes(
    make_ctx: MakeCtx, write_rows: WriteRows, tmp_path: Path
) -> None:
    path = write_rows("issues.csv", [issue(1), issue(2, kind="blocker")])

    (evidence,) = only(poc_ctx(make_ctx, path)).evidence

    expected = hashlib.sha256((tmp_path / path).read_bytes()).hexdigest()
    assert evidence.kind == "issues"
    assert evidence.digest == f"sha256:{expected}"
    assert evidence.details == {"issues": 2, "open": 2, "open_blockers": 1, "open_critical": 0}


def test_no_issue_export_declared_fails(make_ctx: MakeCtx) -> None:
    result = only(poc_ctx(make_ctx, None))

    assert result.status is Status.FAIL
    assert result.reason.startswith("no issue tracker export declared")


def test_missing_issue_export_is_error(make_ctx: MakeCtx) -> None:
    result = only(poc_ctx(make_ctx, "data/issues.csv"))

    assert result.status is Status.ERROR
    assert "evidence.issues" in result.reason and "file not found" in result.reason


def test_unknown_status_is_error_naming_row_and_field(
    make_ctx: MakeCtx, write_rows: WriteRows
) -> None:
    path = write_rows("issues.csv", [issue(1), issue(2, kind="blocker", status="wontfix")])

    result = only(poc_ctx(make_ctx, path))

    assert result.status is Status.ERROR
    assert "row 2 (id ISS-2): field 'status': 'wontfix' is not one of open, closed" in (
        result.reason
    )


def test_stage_without_a_blocker_limit_yields_no_results(make_ctx: MakeCtx) -> None:
    assert blockers.run(make_ctx(stage=Stage.EXPLORE)) == []


def test_loader_accepts_any_case_and_extra_columns(write_text: WriteText, tmp_path: Path) -> None:
    path = write_text(
        "issues.csv",
        "id,title,kind,severity,status,assignee\nA-1,Slow,Blocker,CRITICAL,Open,kim\n",
    )

    issues, _ = load_issues(str(tmp_path / path))

    assert [(i.id, i.kind, i.severity, i.status) for i in issues] == [
        ("A-1", "blocker", "critical", "open")
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("issues.csv", "id,title,kind,status\nA,t,issue,open\n", "missing column(s) severity"),
        ("issues.json", '{"issues": []}', "expected a list of issues"),
        ("issues.json", "[1, 2]", "row 1: expected a mapping, found int"),
        ("issues.yaml", "- id: A\n  title: [x\n", "not valid YAML"),
        (
            "issues.yaml",
            "- {id: A, title: t, kind: bug, severity: minor, status: open}\n",
            "row 1 (id A): field 'kind': 'bug' is not one of blocker, issue",
        ),
        (
            "issues.yaml",
            "- {id: A, title: t, kind: issue, severity: minor}\n",
            "row 1: field 'status': expected text, found nothing",
        ),
        (
            "issues.json",
            '[{"id": "A", "title": "t", "kind": "issue", "severity": "minor", "status": "open"},'
            ' {"id": "A", "title": "u", "kind": "issue", "severity": "minor", "status": "open"}]',
            "row 2 (id A): field 'id': duplicate issue id",
        ),
        ("issues.txt", "whatever", "unsupported issues format '.txt'"),
    ],
)
def test_loader_rejects_malformed_exports_naming_what_is_wrong(
    write_text: WriteText, tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write_text(name, text)

    with pytest.raises(EvidenceError) as caught:
        load_issues(str(tmp_path / path))

    assert message in caught.value.message
    assert name in caught.value.message
