"""docs/reference/ is what the generator writes from the models and the default policy."""

from __future__ import annotations

import re
from pathlib import Path

from gates.policy.effective import default_policy
from gates.scaffold.reference import default_folder, pages
from gates.schemas import generated_settings_schema, generated_usecase_schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_reference_pages_are_what_the_generator_writes() -> None:
    folder = ROOT / "docs" / "reference"
    assert default_folder() == folder
    generated = pages()
    committed = {p.name: p.read_text("utf-8") for p in folder.glob("*.md")}
    assert sorted(committed) == sorted(generated), "regenerate: python -m gates.scaffold.reference"
    for name, text in generated.items():
        assert committed[name] == text, f"{name} is stale: python -m gates.scaffold.reference"


def test_every_settings_and_spec_field_is_listed() -> None:
    settings, usecase = pages()["settings.md"], pages()["usecase.md"]
    for schema, page in (
        (generated_settings_schema(), settings),
        (generated_usecase_schema(), usecase),
    ):
        for definition in [schema, *schema["$defs"].values()]:
            for field in definition.get("properties", {}):
                assert f"| `{field}` |" in page, field


def test_every_deliverable_and_role_of_the_default_policy_is_in_the_stages_page() -> None:
    stages = pages()["stages.md"]
    for stage, criteria in default_policy().items():
        for name in criteria.get("deliverables", []):
            assert f"`{name}`" in stages, (stage, name)
        for role in criteria.get("approvals", {}):
            assert re.search(rf"\b1 {role}\b", stages), (stage, role)


def test_the_datasets_page_names_the_columns_of_each_built_in_suite() -> None:
    datasets = pages()["datasets.md"]
    rows = {
        line.split("|")[3].strip(): line for line in datasets.splitlines() if line.count("|") == 6
    }
    assert "`id`, `input`, `expected_output`" in rows["`poc_test_set`"]
    assert "`user_id`, `timestamp`, `score`" in rows["`pilot_feedback`"]
    assert "`timestamp`, `latency_ms`, `status`, `cost`" in rows["`operational_data`"]
    assert "`date`, `availability`" in rows["`production_monitoring`"]


def test_the_evidence_page_says_where_the_production_quality_target_goes() -> None:
    evidence = pages()["evidence.md"]
    assert "`recheck.production.health.quality.target`" in evidence
    for selector in ("evidence.metrics.poc", "evidence.cost.unit.pilot", "evidence.pilot.kpi",
                     "evidence.monitoring.alert_rules"):  # fmt: skip
        assert f"`{selector}`" in evidence, selector
