"""Evidence as pages show it: portable, readable and linked, whatever the entry holds.

Entries written before locations were recorded relative to the workspace carry the
writing machine's paths and MLflow's epoch milliseconds; pages show them relative and as
ISO times. Links out are built only from ids that look like ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gates.ledger.statement import CheckRecord
from gates.report.evidence_view import check_view, readable
from gates.report.outlinks import LinkOut
from gates.workspace.loader import Workspace, load_workspace
from gates.workspace.settings import LinkSettings

RUN = "5968869862124a159489e9ae64bda1a9"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "stagegate.toml").write_text("")
    return load_workspace(root)


def mlflow_evidence(root: Path, **details: Any) -> dict[str, Any]:
    return {
        "kind": "mlflow-run",
        "uri": f"runs:/{RUN}",
        "digest": "sha256:" + "4" * 64,
        "details": {
            "run_id": RUN,
            "experiment_id": "1",
            "model_version": "models:/support-bot/2",
            "tracking_uri": f"sqlite:///{root}/mlflow.db",
            "start_time_ms": 1789466400000,
            **details,
        },
    }


def record(*evidence: dict[str, Any]) -> CheckRecord:
    return CheckRecord.model_validate(
        {"check": "metric:accuracy", "kind": "mlflow-metrics", "status": "pass",
         "reason": "ok", "observed": 0.9, "expected": ">= 0.85", "evidence": list(evidence)}
    )  # fmt: skip


def test_an_older_entry_shows_relative_paths_and_iso_times(workspace: Workspace) -> None:
    root = workspace.root
    dataset = {"kind": "dataset", "uri": f"{root}/data/poc_test_set.csv", "details": {"rows": 80}}
    view = check_view(workspace, LinkOut(LinkSettings()), record(mlflow_evidence(root), dataset))
    run, data = view.evidence
    assert data.uri == "data/poc_test_set.csv"
    assert '"tracking_uri": "sqlite:///mlflow.db"' in run.details
    assert '"start_time": "2026-09-15T10:00:00.000+00:00"' in run.details
    assert "start_time_ms" not in run.details and "1789466400000" not in run.details
    assert run.links == ()  # no [links]: nothing links out


def test_readable_leaves_numbers_that_are_not_times_alone(workspace: Workspace) -> None:
    shown = readable(workspace, {"latency_ms": 1450, "window_ms": 3, "ok": [1, {"at_ms": "x"}]})
    assert shown == {"latency_ms": 1450, "window_ms": 3, "ok": [1, {"at_ms": "x"}]}


def test_mlflow_evidence_links_to_its_run_experiment_and_model_version(
    workspace: Workspace,
) -> None:
    links = LinkOut(LinkSettings(mlflow_ui="http://mlflow.internal:5000/"))
    (ev,) = check_view(workspace, links, record(mlflow_evidence(workspace.root))).evidence
    assert [(link.label, link.href) for link in ev.links] == [
        ("MLflow run", f"http://mlflow.internal:5000/#/experiments/1/runs/{RUN}"),
        ("MLflow experiment", "http://mlflow.internal:5000/#/experiments/1"),
        ("MLflow model version", "http://mlflow.internal:5000/#/models/support-bot/versions/2"),
    ]


@pytest.mark.parametrize(
    "details",
    [
        {"run_id": "../../admin", "experiment_id": "1"},
        {"run_id": RUN, "experiment_id": "1?x=<script>"},
        {"run_id": ["a"], "experiment_id": None, "model_version": "models:/a/b/c"},
        {"run_id": 5, "experiment_id": 1, "model_version": "models:/bot/1 OR 1"},
    ],
)
def test_ids_that_do_not_look_like_ids_are_not_linked(
    workspace: Workspace, details: dict[str, Any]
) -> None:
    links = LinkOut(LinkSettings(mlflow_ui="http://mlflow.internal:5000"))
    evidence = mlflow_evidence(workspace.root)
    evidence["details"] = details
    (ev,) = check_view(workspace, links, record(evidence)).evidence
    # Only what is well-formed links out (here at most the experiment "1").
    assert [link.href for link in ev.links] in ([], ["http://mlflow.internal:5000/#/experiments/1"])


def test_a_model_name_is_percent_encoded_in_its_link() -> None:
    links = LinkOut(LinkSettings(mlflow_ui="https://ml.example"))
    link = links.mlflow_model("churn model#2", "7")
    assert (
        link is not None and link.href == "https://ml.example/#/models/churn%20model%232/versions/7"
    )
    assert links.prefect_flow_run("not-a-uuid") is None


def test_links_settings_refuse_what_is_not_a_web_address() -> None:
    for bad in ("javascript:alert(1)", "file:///etc", "http://a b", 'http://x"onmouseover=1'):
        with pytest.raises(ValueError):
            LinkSettings(mlflow_ui=bad)
    assert LinkSettings(prefect_ui="http://127.0.0.1:4200/").prefect_ui == "http://127.0.0.1:4200"


def test_gx_results_per_expectation_become_rows_whatever_the_entry_holds(
    workspace: Workspace,
) -> None:
    suite = {
        "kind": "gx-suite",
        "uri": "builtin:poc_test_set.json",
        "details": {
            "expectations": [
                {"type": "expect_column_values_to_be_unique", "column": "id", "success": False,
                 "unexpected_count": 2, "unexpected_examples": ["5", "5"]},
                {"type": "expect_table_row_count_to_be_between", "success": True,
                 "observed_value": "80"},
                "not an object",
                {"type": ["odd"], "success": "yes"},
            ]
        },
    }  # fmt: skip
    (ev,) = check_view(workspace, LinkOut(LinkSettings()), record(suite)).evidence
    unique, rows, odd = ev.expectations
    assert (unique.column, unique.met, unique.unexpected) == ("id", False, "2 (e.g. 5, 5)")
    assert (rows.column, rows.met, rows.observed) == ("", True, "80")
    assert odd.type == '["odd"]' and not odd.met  # only a literal true is "met"


def test_an_older_gx_record_lists_what_failed(workspace: Workspace) -> None:
    suite = {"kind": "gx-suite", "uri": "x.json", "details": {"failed": ["a(id): 2 unexpected"]}}
    (ev,) = check_view(workspace, LinkOut(LinkSettings()), record(suite)).evidence
    assert ev.expectations == () and ev.failed == ("a(id): 2 unexpected",)


def test_settings_file_links_section_is_read(workspace: Workspace) -> None:
    (workspace.root / "stagegate.toml").write_text('[links]\nmlflow_ui = "http://m:5000"\n')
    loaded = load_workspace(workspace.root)
    assert loaded.settings.links.mlflow_ui == "http://m:5000"
    assert loaded.settings.links.prefect_ui == ""


@pytest.mark.parametrize("uri", ["/tmp/a\x00b.csv", "\x00", "/" + "a/" * 3000, 7, None])
def test_any_stored_location_is_shown_never_raised(workspace: Workspace, uri: object) -> None:
    evidence = {"kind": "dataset", "uri": uri, "details": {"uri": uri, "tracking_uri": uri}}
    (ev,) = check_view(workspace, LinkOut(LinkSettings()), record(evidence)).evidence
    assert ev.uri == (uri if isinstance(uri, str) else ("—" if uri is None else str(uri)))
