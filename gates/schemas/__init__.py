"""JSON Schemas of the wire formats, generated from the pydantic models and committed.

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


def _committed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("gates.schemas").joinpath(name).read_text("utf-8")
    )
    return data


def committed_predicate_schema() -> dict[str, Any]:
    return _committed(PREDICATE_SCHEMA_FILE)


def committed_checkpoint_schema() -> dict[str, Any]:
    return _committed(CHECKPOINT_SCHEMA_FILE)


def write_all() -> None:
    folder = Path(__file__).parent
    for name, schema in (
        (PREDICATE_SCHEMA_FILE, generated_predicate_schema()),
        (CHECKPOINT_SCHEMA_FILE, generated_checkpoint_schema()),
    ):
        (folder / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", "utf-8")
