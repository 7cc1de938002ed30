"""Links out of the report: MLflow runs, experiments and model versions, Prefect flow runs.

The bases come from ``[links]`` in the settings; the ids come from signed entries, which
are untrusted bytes, so each id is checked for its shape and percent-encoded before it
becomes part of a URL, and an id that does not look like one is shown without a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gates.workspace.settings import LinkSettings

_RUN_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_EXPERIMENT_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_VERSION = re.compile(r"^[0-9]{1,12}$")
_FLOW_RUN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_MODEL_URI = re.compile(r"^models:/(?P<name>[^/]{1,256})/(?P<version>[0-9]{1,12})$")


@dataclass(frozen=True)
class OutLink:
    """A link to another tool's page about a piece of evidence."""

    label: str
    href: str


def _part(value: str) -> str:
    return quote(value, safe="")


class LinkOut:
    """Builds outbound links from the workspace's ``[links]`` bases; None where unset."""

    def __init__(self, settings: LinkSettings) -> None:
        self.mlflow = settings.mlflow_ui
        self.prefect = settings.prefect_ui

    def mlflow_run(self, run_id: object, experiment_id: object) -> OutLink | None:
        if not (self.mlflow and isinstance(run_id, str) and _RUN_ID.fullmatch(run_id)):
            return None
        if not (isinstance(experiment_id, str) and _EXPERIMENT_ID.fullmatch(experiment_id)):
            return None
        href = f"{self.mlflow}/#/experiments/{_part(experiment_id)}/runs/{_part(run_id)}"
        return OutLink("MLflow run", href)

    def mlflow_experiment(self, experiment_id: object) -> OutLink | None:
        if not (
            self.mlflow
            and isinstance(experiment_id, str)
            and _EXPERIMENT_ID.fullmatch(experiment_id)
        ):
            return None
        return OutLink("MLflow experiment", f"{self.mlflow}/#/experiments/{_part(experiment_id)}")

    def mlflow_model(self, name: object, version: object) -> OutLink | None:
        if not (self.mlflow and isinstance(name, str) and name and "/" not in name):
            return None
        if not (isinstance(version, str) and _VERSION.fullmatch(version)):
            return None
        href = f"{self.mlflow}/#/models/{_part(name)}/versions/{_part(version)}"
        return OutLink("MLflow model version", href)

    def mlflow_model_uri(self, uri: object) -> OutLink | None:
        """``models:/NAME/VERSION`` to its MLflow page."""
        found = _MODEL_URI.fullmatch(uri) if isinstance(uri, str) else None
        return self.mlflow_model(found["name"], found["version"]) if found else None

    def prefect_flow_run(self, flow_run: object) -> OutLink | None:
        if not (self.prefect and isinstance(flow_run, str) and _FLOW_RUN.fullmatch(flow_run)):
            return None
        return OutLink("Prefect flow run", f"{self.prefect}/runs/flow-run/{_part(flow_run)}")

    def for_evidence(self, kind: str, details: Mapping[str, Any]) -> tuple[OutLink, ...]:
        """What a piece of evidence links to: its run, experiment and model version."""
        found: list[OutLink | None] = []
        if kind == "mlflow-run":
            experiment = details.get("experiment_id")
            found += [
                self.mlflow_run(details.get("run_id"), experiment),
                self.mlflow_experiment(experiment),
                self.mlflow_model_uri(details.get("model_version")),
            ]
        elif kind == "mlflow-monitoring":
            found.append(self.mlflow_experiment(details.get("experimentId")))
        return tuple(link for link in found if link is not None)
