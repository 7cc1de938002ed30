"""JSON Schemas of the wire formats and the workspace files, generated from the pydantic
models and committed.

The ledger entry and checkpoint predicates are what auditors parse; the settings file
(``stagegate.toml``) and the use-case spec (``usecases/<id>.yaml``) are what people
write: ``stagegate init`` copies those two schemas into a new workspace, and its files
name them (``#:schema`` for TOML editors, ``yaml-language-server: $schema=`` for YAML
ones) so that editors complete and check every field.

Regenerate after changing a model:
``python -c "from gates.schemas import write_all; write_all()"``; a test keeps the
committed files equal to the models.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

PREDICATE_SCHEMA_FILE = "ledger-entry-v1.schema.json"
CHECKPOINT_SCHEMA_FILE = "checkpoint-v1.schema.json"
SETTINGS_SCHEMA_FILE = "settings.schema.json"
USECASE_SCHEMA_FILE = "usecase.schema.json"
#: Where the workspace schemas say they come from (their ``$id``).
SCHEMA_BASE = "https://stagegate.dev/schemas/"


def _schema(model: type[BaseModel], uri: str, title: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = uri
    schema["title"] = title
    return schema


def generated_predicate_schema() -> dict[str, Any]:
    from gates.ledger.statement import PREDICATE_TYPE, EntryPredicate

    return _schema(EntryPredicate, PREDICATE_TYPE, "stagegate ledger entry predicate v1")


def generated_checkpoint_schema() -> dict[str, Any]:
    from gates.ledger.checkpoint import CHECKPOINT_PREDICATE_TYPE, CheckpointPredicate

    return _schema(
        CheckpointPredicate, CHECKPOINT_PREDICATE_TYPE, "stagegate checkpoint predicate v1"
    )


def generated_settings_schema() -> dict[str, Any]:
    from gates.workspace.settings import Settings

    return _schema(Settings, SCHEMA_BASE + SETTINGS_SCHEMA_FILE, "stagegate.toml")


def generated_usecase_schema() -> dict[str, Any]:
    """The use-case spec, with the criteria and re-check overrides spelt out.

    The model keeps overrides as free mappings (they are merged over the policy before
    they are validated); here they get the fields of the exit criteria and the re-check
    policy they merge into, every field optional, so that editors complete them too.
    """
    from gates.policy.effective import NOT_OVERRIDABLE
    from gates.policy.model import ExitCriteria
    from gates.policy.recheck import RecheckPolicy
    from gates.stages import ROADMAP, Stage
    from gates.workspace.usecase import UseCaseSpec

    schema = _schema(UseCaseSpec, SCHEMA_BASE + USECASE_SCHEMA_FILE, "usecases/<id>.yaml")
    defs = schema["$defs"]
    stages = [s.value for s in ROADMAP]
    gated = [s.value for s in ROADMAP if s is not Stage.SCALE]
    criteria, criteria_defs = _override(ExitCriteria, {*NOT_OVERRIDABLE, "to_stage"})
    recheck, recheck_defs = _override(RecheckPolicy, {"stage"})
    defs.update({**criteria_defs, **recheck_defs})
    criteria["description"] = (
        "Exit criteria of the stage being left, merged over the default policy "
        "(gates/policy/defaults.yaml)."
    )
    recheck["description"] = (
        "The nightly re-check of a stage, merged over the shipped re-check policy "
        "(gates/policy/recheck.yaml)."
    )
    defs["CriteriaOverride"] = criteria
    defs["RecheckOverride"] = recheck
    properties = schema["properties"]
    for name, keys, values in (
        ("criteria", gated, "#/$defs/CriteriaOverride"),
        ("recheck", stages, "#/$defs/RecheckOverride"),
    ):
        properties[name]["additionalProperties"] = {"$ref": values}
        properties[name]["propertyNames"] = {"enum": keys}
    properties["budgets"]["propertyNames"] = {"enum": stages}
    defs["Evidence"]["properties"]["metrics"]["propertyNames"] = {"enum": stages}
    for name in ("daily_spend", "unit", "users"):
        defs["CostEvidence"]["properties"][name]["propertyNames"] = {"enum": stages}
    defs["RoadmapOverride"]["properties"]["stages"]["propertyNames"] = {"enum": stages}
    used = _refs(schema["properties"], defs)
    schema["$defs"] = {name: defs[name] for name in sorted(used)}
    return schema


def _refs(node: Any, defs: dict[str, Any], seen: set[str] | None = None) -> set[str]:
    """Every definition ``node`` refers to, directly or through other definitions."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.rpartition("/")[2]
            if name not in seen:
                seen.add(name)
                _refs(defs[name], defs, seen)
        for value in node.values():
            _refs(value, defs, seen)
    elif isinstance(node, list):
        for value in node:
            _refs(value, defs, seen)
    return seen


def _override(model: type[BaseModel], exclude: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``model``'s schema as an override: ``exclude`` left out and merged parts optional.

    Mappings are merged key by key over the policy, so no field of them is required;
    list items replace the policy's whole, so theirs stay required.
    """
    schema = model.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema.pop("$defs", {})
    for name in exclude:
        schema["properties"].pop(name, None)
    schema.pop("required", None)
    schema["title"] = f"{model.__name__} override"
    merged: list[str] = []
    pending = [schema]
    while pending:
        for prop in pending.pop()["properties"].values():
            for ref in _direct_refs(prop):
                if ref not in merged:
                    merged.append(ref)
                    pending.append(defs[ref])
    for name in merged:
        defs[name].pop("required", None)
    return schema, defs


def _direct_refs(prop: dict[str, Any]) -> list[str]:
    """Definitions a property holds as a mapping (not as list items)."""
    options = prop.get("anyOf", [prop])
    return [o["$ref"].rpartition("/")[2] for o in options if "$ref" in o]


def _committed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("gates.schemas").joinpath(name).read_text("utf-8")
    )
    return data


def committed_predicate_schema() -> dict[str, Any]:
    return _committed(PREDICATE_SCHEMA_FILE)


def committed_checkpoint_schema() -> dict[str, Any]:
    return _committed(CHECKPOINT_SCHEMA_FILE)


def committed_settings_schema() -> dict[str, Any]:
    return _committed(SETTINGS_SCHEMA_FILE)


def committed_usecase_schema() -> dict[str, Any]:
    return _committed(USECASE_SCHEMA_FILE)


def committed_bytes(name: str) -> bytes:
    """A committed schema file exactly as shipped (what ``stagegate init`` copies)."""
    return resources.files("gates.schemas").joinpath(name).read_bytes()


def generated() -> dict[str, dict[str, Any]]:
    """Every schema by its file name, as the models say today."""
    return {
        PREDICATE_SCHEMA_FILE: generated_predicate_schema(),
        CHECKPOINT_SCHEMA_FILE: generated_checkpoint_schema(),
        SETTINGS_SCHEMA_FILE: generated_settings_schema(),
        USECASE_SCHEMA_FILE: generated_usecase_schema(),
    }


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_all() -> None:
    folder = Path(__file__).parent
    for name, schema in generated().items():
        (folder / name).write_text(schema_text(schema), "utf-8")
