"""The deliverables check: declared, present, non-empty and hashed (files, folders, S3)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gates.checks import deliverables
from gates.checks.interface import CheckContext
from gates.results import CheckResult, Status
from gates.stages import Stage

if TYPE_CHECKING:
    from tests.support.check_context import MakeCtx

EXPLORE_DELIVERABLES = ["candidate_list", "priority_matrix", "selection_rationale"]


def explore_ctx(make_ctx: MakeCtx, declared: dict[str, str], **criteria: Any) -> CheckContext:
    return make_ctx(
        stage=Stage.EXPLORE, evidence={"deliverables": declared}, criteria=criteria or None
    )


def by_name(ctx: CheckContext) -> dict[str, CheckResult]:
    return {r.check: r for r in deliverables.run(ctx)}


def write(root: Path, relative: str, content: bytes) -> str:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return relative


def test_every_required_deliverable_present_passes_with_file_hashes(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    declared = {
        name: write(tmp_path, f"docs/{name}.md", f"# {name}\n".encode())
        for name in EXPLORE_DELIVERABLES
    }

    results = deliverables.run(explore_ctx(make_ctx, declared))

    assert [r.check for r in results] == [f"deliverable:{n}" for n in EXPLORE_DELIVERABLES]
    assert all(r.status is Status.PASS for r in results)
    first = results[0].evidence[0]
    expected = hashlib.sha256(b"# candidate_list\n").hexdigest()
    assert first.kind == "deliverable"
    assert first.uri == "docs/candidate_list.md"
    assert first.digest == f"sha256:{expected}"
    assert first.details == {"bytes": len(b"# candidate_list\n")}


def test_undeclared_deliverable_fails_naming_it(make_ctx: MakeCtx, tmp_path: Path) -> None:
    declared = {"candidate_list": write(tmp_path, "c.md", b"x")}

    results = by_name(explore_ctx(make_ctx, declared))

    assert results["deliverable:candidate_list"].status is Status.PASS
    missing = results["deliverable:priority_matrix"]
    assert missing.status is Status.FAIL
    assert missing.reason.startswith("deliverable priority_matrix not declared")


def test_declared_but_absent_file_fails_naming_the_path(make_ctx: MakeCtx) -> None:
    ctx = explore_ctx(make_ctx, {"candidate_list": "docs/candidates.xlsx"})

    result = by_name(ctx)["deliverable:candidate_list"]

    assert result.status is Status.FAIL
    assert "docs/candidates.xlsx not found" in result.reason


def test_empty_file_fails(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = explore_ctx(make_ctx, {"candidate_list": write(tmp_path, "c.md", b"")})

    result = by_name(ctx)["deliverable:candidate_list"]

    assert result.status is Status.FAIL
    assert "c.md is empty" in result.reason


def test_prototype_folder_is_bound_by_its_sorted_manifest(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    files = {"app.py": b"print('demo')\n", "README.md": b"# demo\n", "ui/index.html": b"<p>hi</p>"}
    for relative, content in files.items():
        write(tmp_path, f"prototype/{relative}", content)
    ctx = make_ctx(
        stage=Stage.POC,
        criteria={"deliverables": ["prototype"]},
        evidence={"deliverables": {"prototype": "prototype"}},
    )

    (result,) = deliverables.run(ctx)

    manifest = "".join(
        f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files)
    ).encode()
    assert result.status is Status.PASS
    assert result.evidence[0].digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
    assert result.evidence[0].details["files"] == 3
    assert [e["path"] for e in result.evidence[0].details["manifest"]] == sorted(files)

    write(tmp_path, "prototype/app.py", b"print('changed')\n")
    (changed,) = deliverables.run(ctx)
    assert changed.evidence[0].digest != result.evidence[0].digest


def test_empty_folder_fails(make_ctx: MakeCtx, tmp_path: Path) -> None:
    (tmp_path / "prototype").mkdir()
    write(tmp_path, "prototype/empty.txt", b"")
    ctx = make_ctx(
        stage=Stage.POC,
        criteria={"deliverables": ["prototype"]},
        evidence={"deliverables": {"prototype": "prototype"}},
    )

    (result,) = deliverables.run(ctx)

    assert result.status is Status.FAIL
    assert "folder with no non-empty file" in result.reason


def test_deliverable_that_is_not_a_file_or_folder_is_error(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "pipe")
    ctx = explore_ctx(make_ctx, {"candidate_list": "pipe"})

    result = by_name(ctx)["deliverable:candidate_list"]

    assert result.status is Status.ERROR
    assert "not a regular file or folder" in result.reason


def test_dangling_link_inside_a_folder_is_error(make_ctx: MakeCtx, tmp_path: Path) -> None:
    write(tmp_path, "prototype/app.py", b"x")
    (tmp_path / "prototype/model.bin").symlink_to(tmp_path / "gone.bin")
    ctx = make_ctx(
        stage=Stage.POC,
        criteria={"deliverables": ["prototype"]},
        evidence={"deliverables": {"prototype": "prototype"}},
    )

    (result,) = deliverables.run(ctx)

    assert result.status is Status.ERROR
    assert "model.bin is not a readable file" in result.reason


def test_stage_without_required_deliverables_yields_no_results(make_ctx: MakeCtx) -> None:
    assert deliverables.run(make_ctx(stage=Stage.POC, criteria={"deliverables": []})) == []


@pytest.mark.s3
def test_deliverable_in_s3_is_hashed_and_a_missing_object_fails(
    make_ctx: MakeCtx, s3_bucket: str, seaweedfs: Any
) -> None:
    body = b"%PDF-1.7 technical report"
    seaweedfs.client().put_object(Bucket=s3_bucket, Key="poc/report.pdf", Body=body)
    ctx = explore_ctx(
        make_ctx,
        {
            "candidate_list": f"s3://{s3_bucket}/poc/report.pdf",
            "priority_matrix": f"s3://{s3_bucket}/poc/absent.xlsx",
        },
        deliverables=["candidate_list", "priority_matrix"],
    )

    results = by_name(ctx)

    present = results["deliverable:candidate_list"]
    assert present.status is Status.PASS
    assert present.evidence[0].digest == "sha256:" + hashlib.sha256(body).hexdigest()
    absent = results["deliverable:priority_matrix"]
    assert absent.status is Status.FAIL
    assert "absent.xlsx not found" in absent.reason
