"""Hostile specs and settings through the commands people run: one message, never a traceback.

Impossible dates, complex keys and integers of thousands of digits crashed ``validate``
and ``status``; NaN and infinities passed ``validate`` and crashed ``register`` (or
were locked as ``null``). Each now exits 2 naming the file and the field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.presets import ledger_world

SPEC_EDITS = {
    "impossible-date": ("department: support", "department: support\nstart_date: 2026-02-30"),
    "complex-key": ("department: support", "department: support\n? [a, b]\n: 1"),
    "huge-int": ("poc: 5000", "poc: 1" + "0" * 5000),
    "nan-threshold": ("value: 0.8", "value: .nan"),
    "inf-budget": ("pilot: 20000", "pilot: .inf"),
    "nan-recheck": (
        "department: support",
        "department: support\nrecheck: {production: {health: {availability_min: .nan}}}",
    ),
    "boolean-key": ("department: support", "department: support\non: true"),
    "markup-key": ("department: support", 'department: support\n"[/bold]": 1'),
}
#: What the message names: the field (or line) and what is wrong.
SAYS = {
    "impossible-date": "start_date: '2026-02-30' is not a valid date",
    "complex-key": "a sequence used as a key",
    "huge-int": "budgets.poc: an integer of 5001 characters, too large",
    "nan-threshold": "criteria.poc.metrics.0.value: nan is not a finite number",
    "inf-budget": "budgets.pilot: inf is not a finite number",
    "nan-recheck": "recheck.production.health.availability_min: nan is not a finite",
    "boolean-key": "read as a boolean",
    "markup-key": "[/bold]: unknown field",
}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return ledger_world(tmp_path / "ws").root


def edit_spec(ws: Path, case: str) -> Path:
    old, new = SPEC_EDITS[case]
    spec = ws / "usecases" / "alpha.yaml"
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new, 1))
    return spec


@pytest.mark.parametrize("case", sorted(SPEC_EDITS))
def test_a_hostile_spec_is_a_problem_naming_file_and_field_in_validate(ws: Path, case: str) -> None:
    edit_spec(ws, case)
    result = run("--workspace", str(ws), "validate", "--json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any("alpha.yaml" in p and SAYS[case] in p for p in problems), problems
    human = run("--workspace", str(ws), "validate")
    assert human.returncode == 2 and "Traceback" not in human.stderr, human.stderr


@pytest.mark.parametrize("case", ["impossible-date", "huge-int", "nan-threshold", "complex-key"])
def test_status_and_register_refuse_a_hostile_spec_naming_it(ws: Path, case: str) -> None:
    edit_spec(ws, case)
    for args in (("status",), ("register", "alpha")):
        result = run("--workspace", str(ws), *args)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2, result.stdout + result.stderr
        assert "alpha.yaml" in result.stderr and SAYS[case] in result.stderr
    assert not (ws / "ledger" / "chains").exists()  # nothing was signed


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ("[explore]\nweights = {impact = nan}\n", "explore.weights.impact: nan is not a finite"),
        ("[schedule]\nworkers = 1" + "0" * 5000 + "\n", "(field workers): an integer too large"),
        (
            '[timestamp]\ntsa_url = ""\n[alerts]\ntimeout_seconds = inf\n',
            "alerts.timeout_seconds: inf is not a finite",
        ),
    ],
)
def test_hostile_settings_are_named_by_every_command(ws: Path, settings: str, says: str) -> None:
    path = ws / "stagegate.toml"
    path.write_text(path.read_text() + settings)
    for args in (("validate",), ("status",), ("audit", "verify")):
        result = run("--workspace", str(ws), *args)
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        assert result.returncode == 2 and "stagegate.toml" in output and says in output, output


def test_a_policy_file_with_duplicate_keys_or_nan_is_named_by_validate(ws: Path) -> None:
    path = ws / "stagegate.toml"
    path.write_text(path.read_text() + '[policy]\npath = "policy.yaml"\n')
    policy = ws / "policy.yaml"
    policy.write_text("poc:\n  approvals: {sponsor: 1}\npoc:\n  approvals: {sponsor: 0}\n")
    result = run("--workspace", str(ws), "validate")
    assert result.returncode == 2 and "policy.yaml" in result.stdout
    assert "duplicate key 'poc'" in result.stdout
    policy.write_text("explore:\n  time_box: {planned_days: .nan}\n")
    result = run("--workspace", str(ws), "validate")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "explore.time_box.planned_days: nan is not a finite number" in result.stdout
