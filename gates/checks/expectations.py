"""Data expectations: run a Great Expectations suite over each dataset the exit criteria name.

A suite is GX 1.x ExpectationSuite JSON, looked up by name first in the workspace's
``expectations/`` folder and then among the suites shipped with stagegate. The dataset
and the suite file are both bound by SHA-256 in the evidence, with GX's statistics, so
an auditor can re-run exactly what was checked.

GX is imported on first use only (it takes seconds), and one ephemeral context with one
pandas datasource is kept per process and reused: setting it up per validation would
cost more than the validation itself.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gates.canonical import sha256_hex, strict_json_loads
from gates.checks.interface import CheckContext
from gates.errors import ConfigError, EvidenceError
from gates.evidence.datasets import LoadedDataset, load_dataset
from gates.policy.model import DatasetExpectation
from gates.results import CheckResult, Evidence, Status
from gates.workspace.loader import SUITES_DIR

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_suite import ExpectationSuite

KIND = "expectations"

# A suite name becomes a file name: no separators or leading dots, so a name in a
# use-case spec can never reach outside the suites folders.
_SUITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

# The top-level keys GX 1.x writes for a suite; anything else is a typo to report.
_SUITE_KEYS = frozenset({"name", "id", "expectations", "suite_parameters", "meta", "notes"})

# Expectations about the table's shape, whose failure explains the failures after them.
_STRUCTURE_EXPECTATIONS = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)

# How GX words a metric on a column that is not in the data (GX 1.x).
_MISSING_COLUMN = re.compile(r'The column "([^"]*)" in BatchData does not exist')

#: How many failed expectations a reason lists before summarising the rest.
_REASON_FAILURES = 5


def builtin_suites_dir() -> Path:
    """The suites shipped with stagegate: ``gates/_expectations`` in a wheel, else the repo's."""
    package = Path(__file__).resolve().parent.parent
    # The wheel copy is tried first: in an installed tree, the parent of ``gates`` is
    # site-packages, where an unrelated ``expectations`` folder may exist.
    installed = package / "_expectations"
    return installed if installed.is_dir() else package.parent / SUITES_DIR


@dataclass(frozen=True)
class SuiteFile:
    """A suite as read from disk: its bytes' digest, where it came from, and its JSON."""

    name: str
    path: Path
    source: str  # "workspace" or "builtin"
    digest: str
    data: dict[str, Any]

    @property
    def location(self) -> str:
        """Where the suite is: its path, or ``builtin:NAME.json`` for one shipped with
        stagegate (whose path is only where this machine installed it)."""
        return f"builtin:{self.path.name}" if self.source == "builtin" else str(self.path)

    def evidence(self, **details: object) -> Evidence:
        return Evidence(
            kind="gx-suite",
            uri=self.location,
            digest=self.digest,
            details={"name": self.name, "source": self.source, **details},
        )


def find_suite(workspace_root: Path, name: str) -> tuple[Path, str]:
    """The suite file for ``name``: the workspace's own first, then the built-in one."""
    if not _SUITE_NAME.fullmatch(name):
        raise ConfigError(
            f"suite {name!r}",
            ["a suite name is letters, digits, '_', '-' and '.', naming a JSON file"],
        )
    candidates = (
        (workspace_root / SUITES_DIR / f"{name}.json", "workspace"),
        (builtin_suites_dir() / f"{name}.json", "builtin"),
    )
    for path, source in candidates:
        if path.is_file():
            return path, source
    looked = " and ".join(str(path) for path, _ in candidates)
    raise ConfigError(f"suite {name!r}", [f"not found; looked for {looked}"])


def read_suite(path: Path, name: str, source: str) -> SuiteFile:
    """Read and shape-check a suite file; ConfigError names the file and what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read suite: {e.strerror}"]) from e
    try:
        data = strict_json_loads(raw)
    except ValueError as e:  # invalid JSON or UTF-8, NaN, integers past the limit, too deep
        raise ConfigError(str(path), [f"not valid JSON: {e}"]) from e
    if not isinstance(data, dict):
        raise ConfigError(
            str(path), ["expected a GX ExpectationSuite object with name and expectations"]
        )
    unknown = sorted(set(data) - _SUITE_KEYS)
    if unknown:
        raise ConfigError(
            str(path), [f"unknown suite field(s) {unknown}; expected {sorted(_SUITE_KEYS)}"]
        )
    if data.get("name") != name:
        raise ConfigError(
            str(path), [f"name: {data.get('name')!r} must be the suite's name {name!r}"]
        )
    expectations = data.get("expectations")
    # An empty suite would pass any data at all: that is a broken suite, not a pass.
    if not isinstance(expectations, list) or not expectations:
        raise ConfigError(str(path), ["expectations: expected a non-empty list"])
    return SuiteFile(name, path, source, "sha256:" + sha256_hex(raw), data)


def suite_columns(suite: SuiteFile) -> tuple[str, ...]:
    """The columns a suite needs: every column its expectations name, in first-named order."""
    columns: dict[str, None] = {}
    for expectation in suite.data["expectations"]:
        kwargs = expectation.get("kwargs") if isinstance(expectation, dict) else None
        if not isinstance(kwargs, dict):
            continue
        named = kwargs.get("column_list") or [kwargs.get("column")]
        for column in named if isinstance(named, list) else []:
            if isinstance(column, str):
                columns.setdefault(column, None)
    return tuple(columns)


def required_columns(workspace_root: Path, name: str) -> tuple[str, ...]:
    """The columns the suite ``name`` (the workspace's own, else the built-in one) needs."""
    path, source = find_suite(workspace_root, name)
    return suite_columns(read_suite(path, name, source))


@dataclass(frozen=True)
class SuiteOutcome:
    """What GX concluded about one dataset: its verdict, statistics and what failed."""

    success: bool
    statistics: dict[str, float | int | None]
    failures: tuple[str, ...]
    gx_version: str
    #: Each expectation in suite order: type, column, met or not, and for a suite that
    #: failed (validated again with GX's summary) the observed value and unexpected count.
    expectations: tuple[dict[str, Any], ...] = ()

    @property
    def evaluated(self) -> int:
        return int(self.statistics.get("evaluated_expectations") or 0)

    @property
    def successful(self) -> int:
        return int(self.statistics.get("successful_expectations") or 0)


class _GxValidator:
    """One ephemeral GX context, pandas datasource and whole-dataframe batch definition."""

    def __init__(self) -> None:
        # Must be set before GX is imported; stagegate never reports usage to anyone.
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            # Nothing is rendered, so no data-docs site (GX's default reserves a temp folder).
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            # tqdm bars would be written to stderr on every validation otherwise.
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False,
        )
        context = gx.get_context(project_config=config, mode="ephemeral")
        datasource = context.data_sources.add_pandas("stagegate")
        asset = datasource.add_dataframe_asset("dataset")
        self.batch_definition: BatchDefinition[Any] = asset.add_batch_definition_whole_dataframe(
            "whole"
        )
        self.version = str(gx.__version__)

    def build_suite(self, suite: SuiteFile) -> ExpectationSuite:
        """Turn suite JSON into a GX suite, refusing any expectation GX cannot build.

        GX's own ``ExpectationSuite(**data)`` logs and *drops* an invalid expectation,
        which would silently weaken the suite; each one is built here first instead.
        """
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        configs = []
        for index, raw in enumerate(suite.data["expectations"]):
            label = raw.get("type", "?") if isinstance(raw, dict) else "?"
            try:
                if not isinstance(raw, dict):
                    raise TypeError("expected an object with type and kwargs")
                config = ExpectationConfiguration(**raw)
                config.to_domain_obj()
            except Exception as e:  # GX raises pydantic, TypeError and its own errors here
                detail = " ".join(str(e).split())
                raise ConfigError(
                    str(suite.path), [f"expectations[{index}] ({label}): {detail}"]
                ) from e
            configs.append(config)
        # Configurations, not built expectations, go in: a suite saved by a GX context
        # carries expectation ids, and GX refuses built expectations that have one.
        gx_suite = ExpectationSuite(
            name=suite.name,
            expectations=configs,
            suite_parameters=suite.data.get("suite_parameters") or None,
            meta=dict(suite.data.get("meta") or {}),
            notes=suite.data.get("notes"),
            id=suite.data.get("id"),
        )
        if len(gx_suite.expectations) != len(configs):
            raise ConfigError(str(suite.path), ["GX dropped expectations while loading the suite"])
        return gx_suite

    def validate(self, frame: pd.DataFrame, suite: SuiteFile) -> SuiteOutcome:
        gx_suite = self.build_suite(suite)
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        # A pass needs only the verdicts, which GX computes ~5x faster than its default
        # summary; only a suite that fails is validated again to describe its failures.
        result = batch.validate(gx_suite, result_format="BOOLEAN_ONLY")
        if result.success is not True:
            batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(gx_suite, result_format="SUMMARY")
        results = list(result.results)
        if len(results) != len(gx_suite.expectations):
            raise EvidenceError(
                f"GX evaluated {len(results)} of the {len(gx_suite.expectations)} "
                f"expectations of suite {suite.name}"
            )
        order = _suite_order(suite)
        failed = sorted(
            (r for r in results if r.success is not True),
            key=lambda r: (
                _root_causes_first(r),
                order.get(_identity(r.expectation_config), len(order)),
            ),
        )
        failures = tuple(_describe_failure(r) for r in failed)
        in_order = sorted(
            results, key=lambda r: order.get(_identity(r.expectation_config), len(order))
        )
        return SuiteOutcome(
            success=result.success is True,
            statistics=_statistics(result.statistics),
            failures=failures,
            gx_version=self.version,
            expectations=tuple(_expectation_record(r) for r in in_order),
        )


# The datasource's execution engine keeps the batch being validated as shared state, so
# validations are serialised as well as the set-up: a lock around ~30 ms of work costs
# far less than a context per thread.
_LOCK = threading.Lock()
_VALIDATOR: _GxValidator | None = None


def _validator() -> _GxValidator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = _GxValidator()
    return _VALIDATOR


def warm_up() -> str:
    """Import GX and set up the shared context now (e.g. in a worker); returns GX's version."""
    with _LOCK:
        return _validator().version


def validate_frame(frame: pd.DataFrame, suite: SuiteFile) -> SuiteOutcome:
    """Validate a dataframe against a suite with the process's shared GX context."""
    with _LOCK:
        return _validator().validate(frame, suite)


def run(ctx: CheckContext) -> list[CheckResult]:
    return [check_dataset(ctx, entry) for entry in ctx.criteria.datasets]


def check_dataset(ctx: CheckContext, entry: DatasetExpectation) -> CheckResult:
    check = f"data:{entry.dataset}"
    bounds = _bounds_text(entry.min_rows, entry.max_rows)
    expected = f"all expectations of {entry.suite}" + (f", {bounds} rows" if bounds else "")

    def error(reason: str, *evidence: Evidence) -> CheckResult:
        return CheckResult(check, KIND, Status.ERROR, reason, expected=expected, evidence=evidence)

    if (
        entry.min_rows is not None
        and entry.max_rows is not None
        and entry.min_rows > entry.max_rows
    ):
        return error(f"criteria: min_rows {entry.min_rows} is above max_rows {entry.max_rows}")
    declared = ctx.usecase.evidence.datasets.get(entry.dataset)
    if declared is None:
        return error(
            f"evidence.datasets.{entry.dataset}: not declared in use case {ctx.usecase.id} "
            f"(the exit criteria run suite {entry.suite} on it)"
        )
    try:
        location = ctx.workspace.evidence_path(declared)
    except EvidenceError as e:
        return error(e.message, Evidence(kind="dataset", uri=declared))
    try:
        path, source = find_suite(ctx.workspace.root, entry.suite)
        if source == "workspace":
            ctx.workspace.contain(path, f"suite {entry.suite} ({path})")
        suite = read_suite(path, entry.suite, source)
    except (ConfigError, EvidenceError) as e:
        return error(e.message)
    try:
        dataset = load_once(ctx, location)
    except EvidenceError as e:
        return error(e.message, Evidence(kind="dataset", uri=location), suite.evidence())
    try:
        outcome = validate_frame(dataset.frame, suite)
    except ConfigError as e:
        return error(e.message, dataset.evidence(), suite.evidence())
    except Exception as e:  # GX has no narrow error contract; whatever it raises is not a pass
        detail = _short(" ".join(str(e).split()), 300)
        return error(
            f"GX could not validate {location} with suite {entry.suite} "
            f"({type(e).__name__}: {detail})",
            dataset.evidence(),
            suite.evidence(),
        )

    problems = list(outcome.failures)
    shown = problems[:_REASON_FAILURES]
    if len(problems) > len(shown):
        shown.append(f"and {len(problems) - len(shown)} more")
    row_problem = _row_problem(entry, dataset.rows)
    reasons = ([row_problem] if row_problem else []) + (
        [f"{len(problems)} expectation(s) of {entry.suite} not met: " + "; ".join(shown)]
        if problems
        else []
    )
    passed = outcome.success and not problems and row_problem is None
    evidence = (
        dataset.evidence(),
        suite.evidence(
            statistics=outcome.statistics,
            failed=list(problems),
            gx_version=outcome.gx_version,
            expectations=list(outcome.expectations),
        ),
    )
    observed = f"{outcome.successful}/{outcome.evaluated} expectations met, {dataset.rows} rows"
    if passed:
        reason = f"all {outcome.evaluated} expectations of {entry.suite} met" + (
            f"; {dataset.rows} rows within {bounds}" if bounds else ""
        )
        return CheckResult(check, KIND, Status.PASS, reason, observed, expected, evidence)
    if not reasons:  # GX said no without naming a failed expectation: still not a pass
        reasons = [f"GX reported suite {entry.suite} as not met"]
    return CheckResult(check, KIND, Status.FAIL, "; ".join(reasons), observed, expected, evidence)


def load_once(ctx: CheckContext, location: str) -> LoadedDataset:
    """Load once per gate run: other checks reading the same dataset see the same bytes."""
    key = f"dataset:{location}"
    cached = ctx.memo.get(key)
    if isinstance(cached, LoadedDataset):
        return cached
    dataset = load_dataset(location)
    ctx.memo[key] = dataset
    return dataset


def _row_problem(entry: DatasetExpectation, rows: int) -> str | None:
    too_few = entry.min_rows is not None and rows < entry.min_rows
    too_many = entry.max_rows is not None and rows > entry.max_rows
    if not (too_few or too_many):
        return None
    return (
        f"{entry.dataset} has {rows} rows; expected {_bounds_text(entry.min_rows, entry.max_rows)}"
    )


def _bounds_text(low: int | None, high: int | None) -> str | None:
    if low is not None and high is not None:
        return f"{low}–{high}"
    if low is not None:
        return f"≥ {low}"
    if high is not None:
        return f"≤ {high}"
    return None


def _describe_failure(result: Any) -> str:
    """``type(column): what was seen``, short enough to read in a gate report."""
    config = result.expectation_config
    kwargs: Mapping[str, Any] = config.kwargs if config is not None else {}
    kind = config.type if config is not None else "expectation"
    column = kwargs.get("column")
    head = f"{kind}({column})" if column is not None else str(kind)
    raised = list(_exception_messages(result.exception_info))
    if raised:
        missing = _MISSING_COLUMN.search(raised[0])
        if missing:
            return f"{head}: column {missing.group(1)!r} missing"
        return f"{head}: could not be evaluated ({_short(raised[0], 160)})"
    observed: Mapping[str, Any] = result.result or {}
    if observed.get("unexpected_count") is not None:
        examples = ", ".join(
            _value_text(v) for v in list(observed.get("partial_unexpected_list") or [])[:3]
        )
        text = f"{head}: {observed['unexpected_count']} unexpected"
        return text + (f" (e.g. {examples})" if examples else "")
    if "observed_value" in observed:
        return f"{head}: observed {_value_text(observed['observed_value'])}"
    return f"{head}: not met"


def _expectation_record(result: Any) -> dict[str, Any]:
    """One expectation's outcome as evidence: what it checked and, when GX said, what it saw."""
    config = result.expectation_config
    kwargs: Mapping[str, Any] = config.kwargs if config is not None else {}
    record: dict[str, Any] = {
        "type": str(config.type) if config is not None else "expectation",
        "success": result.success is True,
    }
    column = kwargs.get("column")
    columns = kwargs.get("column_list")
    if column is not None:
        record["column"] = str(column)
    elif isinstance(columns, list | tuple):
        record["column"] = ", ".join(map(str, columns))
    raised = list(_exception_messages(result.exception_info))
    if raised:
        record["error"] = _short(raised[0], 160)
        return record
    observed: Mapping[str, Any] = result.result or {}
    if observed.get("observed_value") is not None:
        record["observed_value"] = _value_text(observed["observed_value"])
    if observed.get("unexpected_count") is not None:
        record["unexpected_count"] = int(observed["unexpected_count"])
        examples = list(observed.get("partial_unexpected_list") or [])[:3]
        if examples:
            record["unexpected_examples"] = [_value_text(v) for v in examples]
    return record


def _identity(config: Any) -> str:
    """An expectation's type and arguments, the way they read in the suite file."""
    if config is None:
        return ""
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    return json.dumps([config.type, kwargs], sort_keys=True, default=str)


def _suite_order(suite: SuiteFile) -> dict[str, int]:
    """Position of each expectation in the suite file, so reports list them in that order."""
    order: dict[str, int] = {}
    for index, raw in enumerate(suite.data["expectations"]):
        key = json.dumps([raw.get("type"), raw.get("kwargs")], sort_keys=True, default=str)
        order.setdefault(key, index)
    return order


def _root_causes_first(result: Any) -> int:
    """Missing columns first, then findings in the data, then what could not be evaluated.

    A missing column makes every other expectation on it fail too; listing the cause
    first keeps the reason readable when it is cut short.
    """
    config = result.expectation_config
    if config is not None and config.type in _STRUCTURE_EXPECTATIONS:
        return 0
    return 2 if any(_exception_messages(result.exception_info)) else 1


def _exception_messages(info: Any) -> Iterator[str]:
    """Messages of exceptions GX caught while evaluating one expectation.

    GX 1.x reports them either flat (``raised_exception``, ``exception_message``) or, for
    metric failures, as a mapping from metric id to such a record.
    """
    if not isinstance(info, Mapping):
        return
    records = (
        [info]
        if "raised_exception" in info
        else [v for v in info.values() if isinstance(v, Mapping)]
    )
    for record in records:
        if record.get("raised_exception"):
            yield " ".join(str(record.get("exception_message") or "exception").split())


def _value_text(value: object) -> str:
    return _short(repr(value) if isinstance(value, str) else str(value), 40)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _statistics(raw: Mapping[str, Any]) -> dict[str, float | int | None]:
    """GX's statistics as plain JSON numbers (counts may arrive as numpy scalars)."""
    percent = raw.get("success_percent")
    return {
        "evaluated_expectations": int(raw.get("evaluated_expectations") or 0),
        "successful_expectations": int(raw.get("successful_expectations") or 0),
        "unsuccessful_expectations": int(raw.get("unsuccessful_expectations") or 0),
        "success_percent": None if percent is None else float(percent),
    }
