"""Check contexts built in memory for one use case, and the data files their evidence names."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gates.checks.interface import CheckContext, StageView
from gates.policy import criteria_digest
from gates.stages import Stage
from gates.workspace.loader import Workspace
from gates.workspace.settings import MlflowSettings, Settings
from gates.workspace.usecase import UseCaseSpec

#: "Now" for every context built here; the pilot started six weeks before it.
NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
PILOT_START = NOW - timedelta(weeks=6)
#: The PoC exit criteria require a quality bar; tests of other kinds get this one.
QUALITY_BAR = [{"metric": "accuracy", "op": ">=", "value": 0.85}]


MakeCtx = Callable[..., CheckContext]


def context_builder(root: Path) -> MakeCtx:
    """Build a CheckContext for one use case in a workspace at ``root``.

    ``criteria`` are overrides of the default policy for ``stage``; ``evidence``,
    ``budgets`` and ``model`` go into the use-case spec as a YAML file would hold them.
    """

    def build(
        *,
        stage: Stage = Stage.POC,
        criteria: dict[str, Any] | None = None,
        evidence: dict[str, Any] | None = None,
        budgets: dict[str, float] | None = None,
        model: dict[str, Any] | None = None,
        tracking_uri: str = "",
        entered_at: datetime | None = PILOT_START,
        now: datetime = NOW,
        currency: str = "USD",
    ) -> CheckContext:
        overrides = dict(criteria or {})
        if stage is Stage.POC:
            overrides.setdefault("metrics", QUALITY_BAR)
        spec: dict[str, Any] = {
            "id": "support-bot",
            "title": "Support answer drafting",
            "owner": "owner@example.com",
            "department": "support",
            "currency": currency,
            "budgets": budgets or {},
            "evidence": evidence or {},
            "criteria": {stage.value: overrides} if overrides else {},
        }
        if model is not None:
            spec["model"] = model
        usecase = UseCaseSpec.model_validate(spec)
        settings = Settings(mlflow=MlflowSettings(tracking_uri=tracking_uri))
        workspace = Workspace(root=root, settings=settings, usecases={usecase.id: usecase})
        effective = workspace.criteria(usecase, stage)
        return CheckContext(
            workspace=workspace,
            usecase=usecase,
            stage=stage,
            criteria=effective,
            criteria_digest=criteria_digest(effective),
            view=StageView(stage=stage, entered_at=entered_at, locked_digest=None),
            now=now,
        )

    return build


WriteRows = Callable[[str, list[dict[str, Any]]], str]


def rows_writer(root: Path) -> WriteRows:
    """Write rows as ``data/<name>`` (CSV, YAML or JSON by suffix) under the workspace.

    Returns the workspace-relative path a use-case spec would declare.
    """

    def write(name: str, rows: list[dict[str, Any]]) -> str:
        relative = f"data/{name}"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".csv"):
            columns = list(rows[0]) if rows else []
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        elif name.endswith(".json"):
            path.write_text(json.dumps(rows), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(rows), encoding="utf-8")
        return relative

    return write


WriteText = Callable[[str, str], str]


def text_writer(root: Path) -> WriteText:
    """Write a raw text file under ``data/`` (for malformed inputs); returns its relative path."""

    def write(name: str, text: str) -> str:
        relative = f"data/{name}"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return relative

    return write
