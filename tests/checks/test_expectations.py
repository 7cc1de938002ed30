"""The expectations check: the shipped GX suites run for real on CSV, Parquet and S3 files."""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gates.checks import expectations
from gates.checks.interface import CheckContext, StageView
from gates.policy import criteria_digest, effective_criteria
from gates.results import CheckResult, Status
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.settings import Settings
from gates.workspace.usecase import UseCaseSpec

QUALITY_BAR = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.8}]}
T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def gx_ready() -> None:
    """Pay GX's import and context set-up once for the module, not in the first test."""
    expectations.warm_up()


def check_context(
    root: Path,
    datasets: dict[str, str],
    stage: Stage = Stage.POC,
    criteria: dict[str, Any] | None = None,
) -> CheckContext:
    overrides = {**(QUALITY_BAR if stage is Stage.POC else {}), **(criteria or {})}
    effective = effective_criteria(stage, overrides)
    usecase = UseCaseSpec.model_validate(
        {
            "id": "support-bot",
            "title": "Support answer drafting",
            "owner": "owner@example.com",
            "department": "support",
            "evidence": {"datasets": datasets},
        }
    )
    workspace = Workspace(root=root, settings=Settings(), usecases={usecase.id: usecase})
    return CheckContext(
        workspace=workspace,
        usecase=usecase,
        stage=stage,
        criteria=effective,
        criteria_digest=criteria_digest(effective),
        view=StageView(stage=stage, entered_at=None, locked_digest=None),
        now=T0 + timedelta(days=20),
    )


def only(ctx: CheckContext) -> CheckResult:
    results = expectations.run(ctx)
    assert len(results) == 1, results
    return results[0]


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def items(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(1, rows + 1),
            "input": [f"How do I reset my password ({i})?" for i in range(rows)],
            "expected_output": [f"Open Settings, then Security ({i})." for i in range(rows)],
        }
    )


def feedback(rows: int = 30) -> pd.DataFrame:
    pick = random.Random(7)
    return pd.DataFrame(
        {
            "user_id": [f"u{i % 12:02d}" for i in range(rows)],
            "timestamp": [(T0 + timedelta(hours=9 * i)).isoformat() for i in range(rows)],
            "score": [pick.choice([3, 4, 4, 5, 5]) for _ in range(rows)],
        }
    )


def operations(rows: int = 200) -> pd.DataFrame:
    pick = random.Random(11)
    return pd.DataFrame(
        {
            "timestamp": [(T0 + timedelta(minutes=7 * i)).isoformat() for i in range(rows)],
            "latency_ms": [round(pick.uniform(120, 900), 1) for _ in range(rows)],
            "status": [pick.choice(["ok"] * 19 + ["error"]) for _ in range(rows)],
            "cost": [round(pick.uniform(0.001, 0.02), 5) for _ in range(rows)],
        }
    )


def write(root: Path, name: str, frame: pd.DataFrame) -> str:
    """Write under ``data/`` and return the workspace-relative path a spec would declare."""
    relative = f"data/{name}"
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return relative


def feedback_only(root: Path, name: str, frame: pd.DataFrame) -> CheckContext:
    return check_context(
        root,
        {"feedback": write(root, name, frame)},
        Stage.PILOT,
        {"datasets": [{"dataset": "feedback", "suite": "pilot_feedback"}]},
    )


def operations_only(root: Path, frame: pd.DataFrame) -> CheckContext:
    return check_context(
        root,
        {"operations": write(root, "operations.csv", frame)},
        Stage.PILOT,
        {"datasets": [{"dataset": "operations", "suite": "operational_data"}]},
    )


# --- PoC test set -------------------------------------------------------------------


def test_good_80_item_test_set_passes_with_dataset_and_suite_bound_by_sha256(
    tmp_path: Path,
) -> None:
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(80))})

    result = only(ctx)

    assert result.status is Status.PASS, result.reason
    assert result.check == "data:test_set"
    assert result.kind == "expectations"
    dataset, suite = result.evidence
    assert dataset.kind == "dataset"
    assert dataset.digest == sha256_of(tmp_path / "data/test_set.csv")
    assert dataset.details["rows"] == 80
    suite_file = expectations.builtin_suites_dir() / "poc_test_set.json"
    assert suite.kind == "gx-suite"
    # A shipped suite is named as shipped, not by where this machine installed it.
    assert suite.uri == "builtin:poc_test_set.json"
    assert suite.digest == sha256_of(suite_file)
    assert suite.details["name"] == "poc_test_set"
    stats = suite.details["statistics"]
    assert stats["evaluated_expectations"] == stats["successful_expectations"] > 0
    assert stats["unsuccessful_expectations"] == 0
    assert stats["success_percent"] == 100.0
    met = stats["evaluated_expectations"]
    assert result.observed == f"{met}/{met} expectations met, 80 rows"
    assert result.expected == "all expectations of poc_test_set, 50–100 rows"
    per_expectation = suite.details["expectations"]
    assert len(per_expectation) == met and all(e["success"] for e in per_expectation)
    assert {"type": "expect_column_values_to_be_unique", "success": True, "column": "id"} in (
        per_expectation
    )
    json.dumps(result.to_json())  # evidence must be plain JSON for the signed artifact


@pytest.mark.parametrize("rows", [50, 100])
def test_test_set_at_either_row_bound_passes(tmp_path: Path, rows: int) -> None:
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(rows))})
    assert only(ctx).status is Status.PASS


@pytest.mark.parametrize("rows", [42, 101])
def test_test_set_outside_50_to_100_items_fails_naming_the_bound(tmp_path: Path, rows: int) -> None:
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(rows))})

    result = only(ctx)

    assert result.status is Status.FAIL
    assert f"test_set has {rows} rows; expected 50–100" in result.reason


def test_row_bounds_come_from_the_use_case_criteria(tmp_path: Path) -> None:
    ctx = check_context(
        tmp_path,
        {"test_set": write(tmp_path, "test_set.csv", items(42))},
        criteria={"datasets": [{"dataset": "test_set", "suite": "poc_test_set", "min_rows": 30}]},
    )

    result = only(ctx)

    assert result.status is Status.PASS, result.reason
    assert result.expected == "all expectations of poc_test_set, ≥ 30 rows"


def test_duplicate_ids_fail_naming_the_expectation_and_count(tmp_path: Path) -> None:
    frame = items(80)
    frame.loc[5, "id"] = frame.loc[4, "id"]
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", frame)})

    result = only(ctx)

    assert result.status is Status.FAIL
    assert "expect_column_values_to_be_unique(id): 2 unexpected" in result.reason
    stats = result.evidence[1].details["statistics"]
    assert stats["unsuccessful_expectations"] == 1
    assert result.evidence[1].details["failed"] == [
        "expect_column_values_to_be_unique(id): 2 unexpected (e.g. 5, 5)"
    ]


def test_each_expectation_is_recorded_with_its_column_and_what_gx_saw(tmp_path: Path) -> None:
    frame = items(80)
    frame.loc[5, "id"] = frame.loc[4, "id"]
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", frame)})

    result = only(ctx)

    recorded = result.evidence[1].details["expectations"]
    suite = json.loads((expectations.builtin_suites_dir() / "poc_test_set.json").read_text())
    assert [e["type"] for e in recorded] == [e["type"] for e in suite["expectations"]]
    unique = next(e for e in recorded if e["type"] == "expect_column_values_to_be_unique")
    assert unique == {
        "type": "expect_column_values_to_be_unique",
        "column": "id",
        "success": False,
        "unexpected_count": 2,
        "unexpected_examples": ["5", "5"],
    }
    met = [e for e in recorded if e is not unique]
    assert met and all(e["success"] for e in met)
    # Values GX observed (a row count, a column list) are recorded as text.
    assert any(isinstance(e.get("observed_value"), str) for e in met)


def test_empty_string_input_in_parquet_fails_on_value_length(tmp_path: Path) -> None:
    frame = items(60)
    frame.loc[3, "input"] = ""
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.parquet", frame)})

    result = only(ctx)

    assert result.status is Status.FAIL
    assert "expect_column_value_lengths_to_be_between(input): 1 unexpected" in result.reason


def test_blank_expected_output_in_csv_fails_as_null(tmp_path: Path) -> None:
    frame = items(60)
    frame.loc[7, "expected_output"] = None
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", frame)})

    result = only(ctx)

    assert result.status is Status.FAIL
    assert "expect_column_values_to_not_be_null(expected_output): 1 unexpected" in result.reason


def test_parquet_test_set_passes_bound_by_its_bytes(tmp_path: Path) -> None:
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.parquet", items(75))})

    result = only(ctx)

    assert result.status is Status.PASS, result.reason
    assert result.evidence[0].digest == sha256_of(tmp_path / "data/test_set.parquet")


def test_missing_dataset_file_is_error_naming_the_path(tmp_path: Path) -> None:
    ctx = check_context(tmp_path, {"test_set": "data/nowhere.csv"})

    result = only(ctx)

    assert result.status is Status.ERROR
    assert str(tmp_path / "data/nowhere.csv") in result.reason
    assert "not found" in result.reason


def test_undeclared_dataset_is_error_naming_the_spec_field(tmp_path: Path) -> None:
    ctx = check_context(tmp_path, {})

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "evidence.datasets.test_set" in result.reason


def test_binary_garbage_csv_never_passes(tmp_path: Path) -> None:
    path = tmp_path / "data/test_set.csv"
    path.parent.mkdir()
    path.write_bytes(random.Random(3).randbytes(4096))
    ctx = check_context(tmp_path, {"test_set": "data/test_set.csv"})

    result = only(ctx)

    assert result.status in (Status.ERROR, Status.FAIL), result.reason
    assert str(path) in result.reason or "expect_column_to_exist" in result.reason


def test_csv_with_the_wrong_columns_fails_naming_the_missing_ones(tmp_path: Path) -> None:
    frame = items(80).rename(columns={"id": "item", "input": "question"})
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", frame)})

    result = only(ctx)

    assert result.status is Status.FAIL
    # The missing columns are the cause and come first; the rest follows from them.
    assert result.reason.startswith(
        "6 expectation(s) of poc_test_set not met: expect_column_to_exist(id): not met; "
        "expect_column_to_exist(input): not met; "
        "expect_column_values_to_not_be_null(id): column 'id' missing;"
    )


# --- Suites: lookup, overrides and broken files --------------------------------------


def test_workspace_suite_overrides_the_builtin_one(tmp_path: Path) -> None:
    builtin = json.loads((expectations.builtin_suites_dir() / "poc_test_set.json").read_text())
    builtin["expectations"].append(
        {"type": "expect_column_to_exist", "kwargs": {"column": "category"}}
    )
    own = tmp_path / "expectations/poc_test_set.json"
    own.parent.mkdir()
    own.write_text(json.dumps(builtin))
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(80))})

    result = only(ctx)

    assert result.status is Status.FAIL
    assert "expect_column_to_exist(category)" in result.reason
    suite = result.evidence[1]
    assert suite.uri == str(own)
    assert suite.digest == sha256_of(own)
    assert suite.details["source"] == "workspace"


def test_unknown_suite_is_error_naming_it_and_where_it_looked(tmp_path: Path) -> None:
    ctx = check_context(
        tmp_path,
        {"test_set": write(tmp_path, "test_set.csv", items(80))},
        criteria={"datasets": [{"dataset": "test_set", "suite": "no_such_suite"}]},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "'no_such_suite'" in result.reason
    assert str(tmp_path / "expectations/no_such_suite.json") in result.reason


def test_suite_name_that_walks_out_of_the_folder_is_error(tmp_path: Path) -> None:
    ctx = check_context(
        tmp_path,
        {"test_set": write(tmp_path, "test_set.csv", items(80))},
        criteria={"datasets": [{"dataset": "test_set", "suite": "../data/test_set"}]},
    )

    result = only(ctx)

    assert result.status is Status.ERROR
    assert "'../data/test_set'" in result.reason


EXISTS_ID = '{"type": "expect_column_to_exist", "kwargs": {"column": "id"}}'
TYPO_KWARG = '{"type": "expect_column_values_to_be_unique", "kwargs": {"colum": "id"}}'
UNKNOWN_TYPE = '{"type": "expect_the_unexpected", "kwargs": {}}'


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", "not valid JSON"),
        ("[" * 100_000, "not valid JSON: JSON nested too deeply"),
        ('{"name": 1' + "0" * 5000 + "}", "not valid JSON"),
        ('{"name": "poc_test_set", "expectations": [NaN]}', "NaN is not a JSON number"),
        ("[]", "expected a GX ExpectationSuite object"),
        ('{"name": "poc_test_set", "expectations": []}', "non-empty list"),
        (
            f'{{"name": "other", "expectations": [{EXISTS_ID}]}}',
            "name",
        ),
        ('{"name": "poc_test_set", "expectation": []}', "unknown suite field"),
        (
            f'{{"name": "poc_test_set", "expectations": [{TYPO_KWARG}]}}',
            "expectations[0] (expect_column_values_to_be_unique)",
        ),
        (
            f'{{"name": "poc_test_set", "expectations": [{UNKNOWN_TYPE}]}}',
            "expectations[0] (expect_the_unexpected)",
        ),
    ],
    ids=[
        "not-json",
        "deep",
        "huge-int",
        "nan",
        "not-object",
        "empty",
        "wrong-name",
        "typo-field",
        "bad-kwarg",
        "unknown-type",
    ],
)
def test_malformed_workspace_suite_is_error_naming_the_file(
    tmp_path: Path, content: str, complaint: str
) -> None:
    own = tmp_path / "expectations/poc_test_set.json"
    own.parent.mkdir()
    own.write_text(content)
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(80))})

    result = only(ctx)

    assert result.status is Status.ERROR
    assert str(own) in result.reason
    assert complaint in result.reason


def test_suite_saved_by_a_gx_context_with_ids_is_accepted(tmp_path: Path) -> None:
    suite = json.loads((expectations.builtin_suites_dir() / "poc_test_set.json").read_text())
    suite["id"] = "5a8f7f6e-4c1b-4f0e-9a55-3f1f4d7e2b10"
    for index, item in enumerate(suite["expectations"]):
        item["id"] = f"5a8f7f6e-4c1b-4f0e-9a55-3f1f4d7e2b{index:02d}"
    own = tmp_path / "expectations/poc_test_set.json"
    own.parent.mkdir()
    own.write_text(json.dumps(suite))
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(80))})

    assert only(ctx).status is Status.PASS


@pytest.mark.parametrize("name", ["poc_test_set", "pilot_feedback", "operational_data"])
def test_builtin_suites_load_back_with_gx_own_api(name: str) -> None:
    import great_expectations as gx

    data = json.loads((expectations.builtin_suites_dir() / f"{name}.json").read_text())
    suite = gx.ExpectationSuite(**data)

    assert suite.name == name
    assert len(suite.expectations) == len(data["expectations"]) > 0
    assert data["meta"]["description"]
    assert data["meta"]["playbook_criterion"]


def test_min_rows_above_max_rows_is_error(tmp_path: Path) -> None:
    ctx = check_context(
        tmp_path,
        {"test_set": write(tmp_path, "test_set.csv", items(80))},
        criteria={
            "datasets": [
                {"dataset": "test_set", "suite": "poc_test_set", "min_rows": 100, "max_rows": 50}
            ]
        },
    )
    assert only(ctx).status is Status.ERROR


def test_stage_without_dataset_criteria_has_no_results(tmp_path: Path) -> None:
    ctx = check_context(tmp_path, {}, Stage.EXPLORE)
    assert expectations.run(ctx) == []


# --- Pilot feedback and operational data ---------------------------------------------


def test_good_pilot_feedback_passes(tmp_path: Path) -> None:
    result = only(feedback_only(tmp_path, "feedback.csv", feedback()))

    assert result.status is Status.PASS, result.reason
    assert result.check == "data:feedback"
    assert result.expected == "all expectations of pilot_feedback"


def test_pilot_feedback_with_score_6_fails(tmp_path: Path) -> None:
    frame = feedback()
    frame.loc[2, "score"] = 6

    result = only(feedback_only(tmp_path, "feedback.csv", frame))

    assert result.status is Status.FAIL
    assert "expect_column_values_to_be_between(score): 1 unexpected (e.g. 6)" in result.reason


def test_pilot_feedback_score_written_as_text_fails_not_passes(tmp_path: Path) -> None:
    frame = feedback().astype({"score": object})
    frame.loc[4, "score"] = "five"

    result = only(feedback_only(tmp_path, "feedback.csv", frame))

    assert result.status is Status.FAIL
    assert "expect_column_values_to_be_in_type_list(score)" in result.reason


def test_pilot_feedback_with_unparseable_or_missing_timestamp_fails(tmp_path: Path) -> None:
    frame = feedback()
    frame.loc[1, "timestamp"] = "last tuesday-ish"
    frame.loc[2, "timestamp"] = None

    result = only(feedback_only(tmp_path, "feedback.csv", frame))

    assert result.status is Status.FAIL
    assert "expect_column_values_to_be_dateutil_parseable(timestamp): 1 unexpected" in result.reason
    assert "expect_column_values_to_not_be_null(timestamp): 1 unexpected" in result.reason


def test_pilot_feedback_in_parquet_with_text_timestamps_passes(tmp_path: Path) -> None:
    assert only(feedback_only(tmp_path, "feedback.parquet", feedback())).status is Status.PASS


def test_good_operational_data_passes(tmp_path: Path) -> None:
    result = only(operations_only(tmp_path, operations()))

    assert result.status is Status.PASS, result.reason
    assert result.observed.endswith(", 200 rows")


@pytest.mark.parametrize(
    ("column", "value", "named"),
    [
        ("status", "timeout", "expect_column_values_to_be_in_set(status)"),
        ("latency_ms", -3.0, "expect_column_values_to_be_between(latency_ms)"),
        ("latency_ms", None, "expect_column_values_to_not_be_null(latency_ms)"),
        ("cost", -0.5, "expect_column_values_to_be_between(cost)"),
        ("timestamp", None, "expect_column_values_to_not_be_null(timestamp)"),
    ],
)
def test_bad_operational_data_fails_naming_the_column(
    tmp_path: Path, column: str, value: object, named: str
) -> None:
    frame = operations()
    frame.loc[10, column] = value

    result = only(operations_only(tmp_path, frame))

    assert result.status is Status.FAIL
    assert named in result.reason


def test_default_pilot_criteria_check_both_pilot_datasets(tmp_path: Path) -> None:
    ctx = check_context(
        tmp_path,
        {
            "feedback": write(tmp_path, "feedback.csv", feedback()),
            "operations": write(tmp_path, "operations.csv", operations()),
        },
        Stage.PILOT,
    )

    results = expectations.run(ctx)

    assert [(r.check, r.status) for r in results] == [
        ("data:feedback", Status.PASS),
        ("data:operations", Status.PASS),
    ]


# --- Running it: threads, noise, speed, S3 -------------------------------------------


def test_checks_in_parallel_threads_each_judge_their_own_data(tmp_path: Path) -> None:
    contexts = []
    for index in range(12):
        root = tmp_path / f"ws{index}"
        frame = items(80)
        if index % 2:
            frame.loc[0, "id"] = frame.loc[1, "id"]
        contexts.append(check_context(root, {"test_set": write(root, "test_set.csv", frame)}))

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda ctx: only(ctx).status, contexts))

    assert statuses == [Status.PASS, Status.FAIL] * 6


def test_validation_prints_no_progress_bars(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ctx = check_context(tmp_path, {"test_set": write(tmp_path, "test_set.csv", items(80))})

    only(ctx)

    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out


def test_warm_validation_of_three_expectations_on_100_rows_takes_tens_of_ms() -> None:
    path = expectations.builtin_suites_dir() / "poc_test_set.json"
    data = json.loads(path.read_text())
    wanted = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"}
    picked = [e for e in data["expectations"] if e["type"] in wanted][:3]
    suite = expectations.SuiteFile(
        "three", path, "builtin", "sha256:-", {"name": "three", "expectations": picked}
    )
    frame = items(100)
    expectations.validate_frame(frame, suite)

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        outcome = expectations.validate_frame(frame, suite)
        timings.append(time.perf_counter() - start)

    assert outcome.success and outcome.evaluated == 3
    assert statistics.median(timings) < 0.25, timings


@pytest.mark.s3
def test_s3_dataset_passes_bound_by_the_object_bytes(tmp_path: Path, s3_bucket: str) -> None:
    import boto3

    body = items(80).to_csv(index=False).encode()
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="poc/test_set.csv", Body=body)
    url = f"s3://{s3_bucket}/poc/test_set.csv"
    ctx = check_context(tmp_path, {"test_set": url})

    result = only(ctx)

    assert result.status is Status.PASS, result.reason
    assert result.evidence[0].uri == url
    assert result.evidence[0].digest == "sha256:" + hashlib.sha256(body).hexdigest()


@pytest.mark.s3
def test_missing_s3_object_is_error_naming_it(tmp_path: Path, s3_bucket: str) -> None:
    url = f"s3://{s3_bucket}/poc/absent.csv"

    result = only(check_context(tmp_path, {"test_set": url}))

    assert result.status is Status.ERROR
    assert url in result.reason
