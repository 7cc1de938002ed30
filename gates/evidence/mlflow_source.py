"""Resolve an MLflow run selector (run id, experiment, model version) to one run's evidence.

MLflow is imported inside functions only: importing it costs seconds, and commands that
never touch MLflow (audit, status) must not pay for it. The global tracking URI is never
set; each tracking URI gets its own client, so one process can serve many workspaces.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from gates.canonical import digest_of
from gates.errors import EvidenceError
from gates.results import Evidence
from gates.workspace.usecase import RunSelector

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

#: HTTP settings applied while stagegate talks to an MLflow server, unless the user set
#: them. MLflow's defaults (7 retries with exponential backoff, 120 s timeout) turn an
#: unreachable server into minutes of waiting; a gate should fail closed in seconds and
#: can simply be run again.
FAIL_FAST_HTTP_ENV: dict[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}

_MODEL_URI = re.compile(r"models:/(?P<name>[^/]+)/(?P<version>\d+)")
_SQLITE_PREFIX = "sqlite:///"


@dataclass(frozen=True)
class ResolvedRun:
    """One FINISHED MLflow run chosen by a selector, with its latest metric values."""

    run_id: str
    experiment_id: str
    metrics: dict[str, float] = field(hash=False)
    model_name: str | None
    model_version: str | None
    tracking_uri: str
    experiment_name: str | None = None
    selector: str = ""
    start_time_ms: int | None = field(default=None, compare=False)

    @property
    def model_uri(self) -> str | None:
        if self.model_name is None or self.model_version is None:
            return None
        return f"models:/{self.model_name}/{self.model_version}"

    def describe(self) -> str:
        """Short label for reasons: ``run 1a2b3c (models:/churn/3)``."""
        model = f", {self.model_uri}" if self.model_uri else ""
        return f"run {self.run_id}{model}"

    def evidence(self, metric_names: Iterable[str] | None = None) -> Evidence:
        """The run as evidence, with the values of ``metric_names`` (all metrics if None).

        The digest covers run id, metric values and model version, so an auditor who
        reads the same run back gets the same digest.
        """
        wanted = sorted(self.metrics) if metric_names is None else sorted(set(metric_names))
        used = {name: json_number(self.metrics[name]) for name in wanted if name in self.metrics}
        missing = [name for name in wanted if name not in self.metrics]
        bound = {"run_id": self.run_id, "metrics": used, "model": self.model_uri}
        details: dict[str, Any] = {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "experiment": self.experiment_name,
            "metrics": used,
            "model_version": self.model_uri,
            "tracking_uri": redact_uri(self.tracking_uri),
            "selector": self.selector,
        }
        if missing:
            details["missing_metrics"] = missing
        if self.start_time_ms is not None:
            details["start_time"] = iso_millis(self.start_time_ms)
        return Evidence(
            kind="mlflow-run", uri=f"runs:/{self.run_id}", digest=digest_of(bound), details=details
        )


def iso_millis(epoch_ms: int) -> str:
    """MLflow's epoch milliseconds as an ISO 8601 UTC time, the way people read times."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


def json_number(value: float) -> float | str:
    """A metric value that canonical JSON can carry: NaN and infinities become text."""
    number = float(value)
    return number if math.isfinite(number) else str(number)


def redact_uri(uri: str) -> str:
    """The tracking URI without any password, fit for messages and signed evidence."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if parts.password is None and parts.username is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def describe_selector(selector: RunSelector) -> str:
    if selector.run_id:
        return f"run_id {selector.run_id!r}"
    if selector.model:
        return selector.model
    tags = ", ".join(f"{k}={v}" for k, v in sorted(selector.tags.items()))
    return f"experiment {selector.experiment!r}" + (f" (tags {tags})" if tags else "")


class _FailFastHttp:
    """Applies FAIL_FAST_HTTP_ENV while any stagegate MLflow call is in flight.

    MLflow reads these variables on every HTTP request and offers no per-client
    setting, so they are set for the duration of our calls only (reference-counted so
    concurrent calls do not undo each other) and removed afterwards. Variables the
    user set are left alone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._applied: dict[str, str] = {}

    @contextmanager
    def applied(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                for name, value in FAIL_FAST_HTTP_ENV.items():
                    if name not in os.environ:
                        os.environ[name] = value
                        self._applied[name] = value
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for name, value in self._applied.items():
                        if os.environ.get(name) == value:
                            del os.environ[name]
                    self._applied.clear()


_fail_fast = _FailFastHttp()


def _problem_of(error: BaseException) -> str:
    """One line saying what went wrong, recognising an unreachable server."""
    import requests

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, requests.exceptions.Timeout):
            return "tracking server did not answer in time (unreachable?)"
        if isinstance(seen, requests.exceptions.ConnectionError):
            return "tracking server unreachable (connection refused or no route)"
        seen = seen.__cause__ or seen.__context__
    message = str(getattr(error, "message", None) or error) or type(error).__name__
    first = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return first if len(first) <= 300 else first[:297] + "..."


@contextmanager
def mlflow_errors(where: str) -> Iterator[None]:
    """MLflow calls inside fail fast, and any failure becomes an EvidenceError naming ``where``."""
    with _fail_fast.applied():
        try:
            yield
        except EvidenceError:
            raise
        except Exception as e:  # MLflow, SQLAlchemy and requests raise many types
            raise EvidenceError(f"{where}: {_problem_of(e)}") from e


def check_tracking_uri(tracking_uri: str) -> None:
    """Refuse URIs that cannot name an existing tracking store, before MLflow sees them.

    MLflow would silently create a fresh, empty SQLite database at a mistyped path (and
    fall back to a default store for an empty URI); a gate must instead say so.
    """
    if not tracking_uri.strip():
        raise EvidenceError(
            "no MLflow tracking URI configured",
            hint="set [mlflow] tracking_uri in stagegate.toml or MLFLOW_TRACKING_URI",
        )
    if tracking_uri.split("?", 1)[0] in ("sqlite://", "sqlite:///:memory:"):
        raise EvidenceError(
            f"MLflow at {tracking_uri}: an in-memory SQLite store is empty in every process",
            hint="point [mlflow] tracking_uri at an MLflow server or SQLite database file",
        )
    if tracking_uri.startswith(_SQLITE_PREFIX):
        path = tracking_uri[len(_SQLITE_PREFIX) :].split("?", 1)[0]
        if not Path(path).is_file():
            raise EvidenceError(
                f"MLflow at {tracking_uri}: database file {path} does not exist",
                hint="point [mlflow] tracking_uri at an existing MLflow SQLite database",
            )


_clients: dict[str, MlflowClient] = {}
_clients_lock = threading.Lock()


def client_for(tracking_uri: str) -> MlflowClient:
    """One cached MlflowClient per tracking URI; EvidenceError if the store is unusable."""
    check_tracking_uri(tracking_uri)
    with _clients_lock:
        client = _clients.get(tracking_uri)
        if client is not None:
            return client
        with mlflow_errors(f"MLflow at {redact_uri(tracking_uri)}"):
            from mlflow.tracking import MlflowClient

            # The registry lives in the same store unless the user points elsewhere;
            # passing it explicitly keeps any process-wide registry URI out of the way.
            registry_uri = os.environ.get("MLFLOW_REGISTRY_URI") or (
                None if tracking_uri.startswith("databricks") else tracking_uri
            )
            client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        _clients[tracking_uri] = client
        return client


def _quoted(value: str, what: str) -> str:
    """A string literal for an MLflow filter; MLflow has no escape inside quotes."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise EvidenceError(f"{what} {value!r}: cannot be searched (contains both quote kinds)")


def run_filter(tags: dict[str, str]) -> str:
    """The search filter for 'FINISHED and carrying all these tags'."""
    clauses = ["attributes.status = 'FINISHED'"]
    for key, value in sorted(tags.items()):
        if "`" in key:
            raise EvidenceError(f"tag name {key!r}: cannot be searched (contains a backtick)")
        clauses.append(f"tags.`{key}` = {_quoted(value, f'tag {key}')}")
    return " and ".join(clauses)


def find_model_version(client: MlflowClient, name: str, run_id: str) -> str | None:
    """The newest registered version of ``name`` whose source run is ``run_id``, if any."""
    filter_string = f"name = {_quoted(name, 'model name')} and run_id = {_quoted(run_id, 'run id')}"
    versions = client.search_model_versions(filter_string=filter_string)
    numbers = sorted(int(mv.version) for mv in versions if str(mv.version).isdigit())
    return str(numbers[-1]) if numbers else None


def resolve_run(
    selector: RunSelector, tracking_uri: str, *, model_name: str | None = None
) -> ResolvedRun:
    """Resolve ``selector`` to one FINISHED run; EvidenceError naming selector and store.

    ``model_name`` (the use case's registered model) lets a run chosen by id or
    experiment be tied to the model version registered from it.
    """
    label = describe_selector(selector)
    where = f"MLflow {label} at {redact_uri(tracking_uri)}"
    try:
        client = client_for(tracking_uri)
    except EvidenceError as e:
        raise EvidenceError(f"{label}: {e.message}", hint=e.hint) from e
    with mlflow_errors(where):
        version_name, version = None, None
        if selector.run_id:
            run = client.get_run(selector.run_id)
        elif selector.model:
            match = _MODEL_URI.fullmatch(selector.model)
            if match is None:  # RunSelector validates this; kept for direct callers
                raise EvidenceError(f"{where}: expected models:/NAME/VERSION")
            version_name, version = match["name"], match["version"]
            model_version = client.get_model_version(version_name, version)
            if not model_version.run_id:
                raise EvidenceError(
                    f"{where}: model version has no source run to read metrics from"
                )
            run = client.get_run(model_version.run_id)
        else:
            run = _latest_finished_run(client, selector, where)
        _require_usable(run, where)
        experiment = client.get_experiment(run.info.experiment_id)
        if version is None and model_name:
            version_name, version = (
                model_name,
                find_model_version(client, model_name, run.info.run_id),
            )
            if version is None:
                version_name = None
        return ResolvedRun(
            run_id=run.info.run_id,
            experiment_id=str(run.info.experiment_id),
            metrics={k: float(v) for k, v in run.data.metrics.items()},
            model_name=version_name,
            model_version=version,
            tracking_uri=tracking_uri,
            experiment_name=experiment.name if experiment is not None else None,
            selector=label,
            start_time_ms=run.info.start_time,
        )


def _latest_finished_run(client: MlflowClient, selector: RunSelector, where: str) -> Run:
    experiment = client.get_experiment_by_name(selector.experiment or "")
    if experiment is None or experiment.lifecycle_stage != "active":
        raise EvidenceError(f"{where}: experiment not found")
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=run_filter(selector.tags),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        with_tags = " with the required tags" if selector.tags else ""
        raise EvidenceError(f"{where}: no FINISHED run{with_tags} in the experiment")
    return runs[0]


def _require_usable(run: Run, where: str) -> None:
    """Metrics of a run that is still running, failed or deleted are not evidence."""
    if run.info.lifecycle_stage != "active":
        raise EvidenceError(f"{where}: run {run.info.run_id} is deleted")
    if run.info.status != "FINISHED":
        raise EvidenceError(
            f"{where}: run {run.info.run_id} is {run.info.status}, not FINISHED; "
            "its metrics may be incomplete"
        )


def resolve_run_once(
    memo: MutableMapping[str, object],
    selector: RunSelector,
    tracking_uri: str,
    *,
    model_name: str | None = None,
) -> ResolvedRun:
    """``resolve_run`` memoised in ``memo`` (one gate's): its checks query MLflow once.

    A failure is memoised too, so an unreachable server is asked once per gate.
    """
    key = "mlflow-run:" + digest_of(
        {"uri": tracking_uri, "selector": selector.model_dump(mode="json"), "model": model_name}
    )
    cached = memo.get(key)
    if isinstance(cached, ResolvedRun):
        return cached
    if isinstance(cached, EvidenceError):
        raise EvidenceError(cached.message, hint=cached.hint)
    try:
        resolved = resolve_run(selector, tracking_uri, model_name=model_name)
    except EvidenceError as e:
        memo[key] = e
        raise
    memo[key] = resolved
    return resolved
