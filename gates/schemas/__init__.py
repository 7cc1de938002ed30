"""JSON Schemas of the wire formats, generated from the pydantic models and committed."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PREDICATE_SCHEMA_FILE = "ledger-entry-v1.schema.json"


def generated_predicate_schema() -> dict[str, Any]:
    from gates.ledger.statement import PREDICATE_TYPE, EntryPredicate

    schema = EntryPredicate.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = PREDICATE_TYPE
    schema["title"] = "stagegate ledger entry predicate v1"
    return schema


def committed_predicate_schema() -> dict[str, Any]:
    text = resources.files("gates.schemas").joinpath(PREDICATE_SCHEMA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
