"""Evidence is read only from inside the workspace or a folder ``[evidence] roots`` names.

A deliverable at ``../../../../etc/passwd``, at ``/etc/hostname`` or behind a symlink to
either counted as present. Every evidence path now resolves (symlinks followed) before
it is read, and anything outside is an ``error`` naming the path, never a pass.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gates.checks import blockers, deliverables
from gates.checks.expectations import check_dataset
from gates.checks.interface import CheckContext
from gates.policy.model import DatasetExpectation
from gates.policy.recheck import HealthRule
from gates.recheck.operations import alert_rules_result
from gates.results import Status
from gates.stages import Stage
from gates.workspace.settings import EvidenceSettings

if TYPE_CHECKING:
    from tests.support.check_context import MakeCtx

DEPTH = "../" * 12  # more than enough to climb out of any temporary folder


def deliverable_ctx(make_ctx: MakeCtx, location: str) -> CheckContext:
    return make_ctx(
        stage=Stage.EXPLORE,
        evidence={"deliverables": {"candidate_list": location}},
        criteria={"deliverables": ["candidate_list"]},
    )


def with_roots(ctx: CheckContext, *roots: str) -> CheckContext:
    settings = ctx.workspace.settings.model_copy(
        update={"evidence": EvidenceSettings(roots=list(roots))}
    )
    return replace(ctx, workspace=replace(ctx.workspace, settings=settings))


def outside_file(tmp_path_factory: pytest.TempPathFactory, text: str = "secret\n") -> Path:
    path = tmp_path_factory.mktemp("outside") / "notes.md"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "location",
    [f"{DEPTH}etc/passwd", "/etc/hostname", "docs/../../../../../../../etc/passwd", "~/x.md"],
)
def test_a_deliverable_outside_the_workspace_is_an_error_naming_the_path(
    make_ctx: MakeCtx, location: str
) -> None:
    (result,) = deliverables.run(deliverable_ctx(make_ctx, location))

    assert result.status is Status.ERROR, result.reason
    assert location in result.reason and "outside the workspace" in result.reason
    assert result.evidence == ()


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/hostname"])
def test_a_symlink_inside_the_workspace_to_a_file_outside_is_an_error(
    make_ctx: MakeCtx, tmp_path: Path, target: str
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "candidates.md").symlink_to(target)

    (result,) = deliverables.run(deliverable_ctx(make_ctx, "docs/candidates.md"))

    assert result.status is Status.ERROR
    assert f"resolves to {target}" in result.reason and "outside the workspace" in result.reason


def test_a_symlink_that_stays_inside_the_workspace_is_read(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "list.md").write_text("# candidates\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "candidates.md").symlink_to(tmp_path / "shared" / "list.md")

    (result,) = deliverables.run(deliverable_ctx(make_ctx, "docs/candidates.md"))

    assert result.status is Status.PASS, result.reason


def test_a_folder_deliverable_holding_a_link_outside_is_an_error(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    folder = tmp_path / "prototype"
    folder.mkdir()
    (folder / "app.py").write_text("print('demo')\n")
    (folder / "config").symlink_to("/etc/passwd")

    (result,) = deliverables.run(deliverable_ctx(make_ctx, "prototype"))

    assert result.status is Status.ERROR
    assert "prototype/config" in result.reason and "/etc/passwd" in result.reason


def test_an_evidence_root_makes_a_folder_outside_the_workspace_legal(
    make_ctx: MakeCtx, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = outside_file(tmp_path_factory)
    ctx = deliverable_ctx(make_ctx, str(outside))
    (refused,) = deliverables.run(ctx)
    assert refused.status is Status.ERROR

    (allowed,) = deliverables.run(with_roots(ctx, str(outside.parent)))
    assert allowed.status is Status.PASS, allowed.reason
    (other,) = deliverables.run(with_roots(ctx, str(outside.parent / "elsewhere")))
    assert other.status is Status.ERROR


def test_a_relative_evidence_root_is_relative_to_the_workspace(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    shared = tmp_path.parent / f"{tmp_path.name}-shared"
    shared.mkdir()
    (shared / "list.md").write_text("# candidates\n")
    ctx = deliverable_ctx(make_ctx, f"../{shared.name}/list.md")

    (refused,) = deliverables.run(ctx)
    (allowed,) = deliverables.run(with_roots(ctx, f"../{shared.name}"))

    assert refused.status is Status.ERROR and allowed.status is Status.PASS


def test_an_issue_export_outside_the_workspace_is_an_error(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(stage=Stage.POC, evidence={"issues": "/etc/passwd"})

    (result,) = blockers.run(ctx)

    assert result.status is Status.ERROR
    assert "/etc/passwd" in result.reason and "outside the workspace" in result.reason


def test_a_dataset_outside_the_workspace_is_an_error_before_it_is_read(
    make_ctx: MakeCtx, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "test_set.csv"
    outside.write_text("id,value\n1,2\n")
    ctx = make_ctx(stage=Stage.POC, evidence={"datasets": {"test_set": str(outside)}})

    result = check_dataset(ctx, DatasetExpectation(dataset="test_set", suite="poc_test_set"))

    assert result.status is Status.ERROR
    assert str(outside) in result.reason and "outside the workspace" in result.reason


def test_a_workspace_suite_linking_outside_is_an_error(
    make_ctx: MakeCtx, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    suite = outside_file(tmp_path_factory, '{"name": "poc_test_set", "expectations": []}')
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "poc_test_set.json").symlink_to(suite)
    (tmp_path / "data.csv").write_text("id\n1\n")
    ctx = make_ctx(stage=Stage.POC, evidence={"datasets": {"test_set": "data.csv"}})

    result = check_dataset(ctx, DatasetExpectation(dataset="test_set", suite="poc_test_set"))

    assert result.status is Status.ERROR
    assert "suite poc_test_set" in result.reason and str(suite) in result.reason


def test_alert_rules_outside_the_workspace_are_an_error(make_ctx: MakeCtx, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").symlink_to("/etc/passwd")
    monitoring = {"experiment": "monitoring", "alert_rules": "rules.yaml"}
    ctx = make_ctx(stage=Stage.PRODUCTION, evidence={"monitoring": monitoring})

    result = alert_rules_result(ctx, HealthRule(alert_rules=["latency"]))

    assert result.status is Status.ERROR
    assert "resolves to /etc/passwd" in result.reason


def test_a_home_folder_of_no_known_user_is_a_name_not_a_crash(make_ctx: MakeCtx) -> None:
    (result,) = deliverables.run(deliverable_ctx(make_ctx, "~nosuchuser/notes.md"))
    assert result.status is Status.FAIL and "not found" in result.reason


def test_urls_are_not_paths_and_pass_through(make_ctx: MakeCtx) -> None:
    workspace = make_ctx().workspace
    for url in ("s3://bucket/key.csv", "runs:/abc/model", "models:/bot/3"):
        assert workspace.evidence_path(url) == url


def test_validate_names_evidence_paths_outside_and_evidence_roots_that_are_no_folder(
    tmp_path: Path,
) -> None:
    from tests.support.cli import run
    from tests.support.presets import ledger_world

    ws = ledger_world(tmp_path / "ws").root
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(
        spec.read_text()
        .replace("docs/candidates.md", "../../../../../../../../etc/passwd")
        .replace("docs/matrix.md", "/etc/hostname")
    )
    (ws / "docs" / "rationale.md").unlink()
    (ws / "docs" / "rationale.md").symlink_to("/etc/passwd")
    settings = ws / "stagegate.toml"
    settings.write_text(settings.read_text() + '[evidence]\nroots = ["missing-folder"]\n')

    result = run("--workspace", str(ws), "validate", "--json")

    assert result.returncode == 2, result.stderr
    problems = "\n".join(json.loads(result.stdout)["problems"])
    for field in ("candidate_list", "priority_matrix", "selection_rationale"):
        assert f"alpha.yaml: evidence.deliverables.{field}: " in problems, problems
    assert "resolves to /etc/passwd, which is outside the workspace" in problems
    assert "/etc/hostname: outside the workspace" in problems
    assert "evidence.roots.0: 'missing-folder' is not a folder" in problems
    assert "beta.yaml: evidence.deliverables.candidate_list" not in problems
