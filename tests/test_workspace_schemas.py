"""The committed JSON Schemas of `stagegate.toml` and `usecases/<id>.yaml` (what editors check).

They are generated from the models and kept equal to them, and they accept what the
loader accepts on real workspaces (the demo's), and refuse what it refuses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gates.config_files import read_toml, read_yaml
from gates.demo import workspace as demo_workspace
from gates.schemas import (
    committed_settings_schema,
    committed_usecase_schema,
    generated_settings_schema,
    generated_usecase_schema,
)


def as_json(value: Any) -> Any:
    """What an editor sees: YAML dates are text, as in the file."""
    return json.loads(json.dumps(value, default=str))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "ws"
    demo_workspace.build(root, datetime(2026, 8, 3, tzinfo=UTC))
    return root


def test_committed_workspace_schemas_match_the_models() -> None:
    assert committed_settings_schema() == as_json(generated_settings_schema())
    assert committed_usecase_schema() == as_json(generated_usecase_schema())


def test_every_field_of_both_files_has_a_description() -> None:
    missing = []
    for name, schema in (
        ("settings", committed_settings_schema()),
        ("usecase", committed_usecase_schema()),
    ):
        for model, definition in [("(top)", schema), *schema["$defs"].items()]:
            for field, prop in definition.get("properties", {}).items():
                described = prop.get("description") or schema["$defs"].get(
                    (prop.get("$ref") or "").rpartition("/")[2], {}
                ).get("description")
                if not described:
                    missing.append(f"{name}: {model}.{field}")
    assert missing == []


def test_the_demo_settings_and_specs_satisfy_the_schemas(demo: Path) -> None:
    jsonschema.validate(as_json(read_toml(demo / "stagegate.toml")), committed_settings_schema())
    specs = sorted((demo / "usecases").glob("*.yaml"))
    assert len(specs) == 2
    for spec in specs:
        jsonschema.validate(as_json(read_yaml(spec)), committed_usecase_schema())


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d | {"sponser": []}, "sponser"),
        (lambda d: d | {"budgets": {"explor": 1}}, "explor"),
        (lambda d: d | {"criteria": {"poc": {"metric": []}}}, "metric"),
        (lambda d: d | {"criteria": {"poc": {"budgets": {"pilot": 1}}}}, "budgets"),
        (lambda d: d | {"recheck": {"production": {"health": {"qualty": {}}}}}, "qualty"),
        (lambda d: d | {"evidence": {"metrics": {"PoC": {"experiment": "x"}}}}, "PoC"),
    ],
)
def test_the_usecase_schema_refuses_misspelt_fields_and_stages(
    demo: Path, edit: Any, where: str
) -> None:
    spec = as_json(read_yaml(demo / "usecases" / "support-bot.yaml"))
    with pytest.raises(jsonschema.ValidationError) as refused:
        jsonschema.validate(edit(spec), committed_usecase_schema())
    assert where in str(refused.value)


def test_overrides_need_only_the_fields_they_change(demo: Path) -> None:
    spec = as_json(read_yaml(demo / "usecases" / "invoice-ocr.yaml"))
    spec["criteria"]["poc"]["time_box"] = {"max_days": 60}
    spec["criteria"]["poc"]["cost"] = {"warn_ratio": 0.7}
    spec["recheck"] = {"production": {"health": {"error_rate": {"spike_factor": 4}}}}
    jsonschema.validate(spec, committed_usecase_schema())
    # A list item replaces the policy's whole: its fields stay required.
    spec["criteria"]["poc"]["metrics"] = [{"metric": "accuracy", "op": ">="}]
    with pytest.raises(jsonschema.ValidationError, match="'value' is a required property"):
        jsonschema.validate(spec, committed_usecase_schema())
