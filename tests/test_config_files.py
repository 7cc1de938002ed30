"""The one YAML/TOML reader: hostile values become problems naming file and field.

Each case here crashed a loader (PyYAML's timestamp constructor, unhashable keys, the
int/str conversion limit) or slipped through it (NaN, infinities) before.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gates.canonical import NonCanonicalValue, canonical_json, digest_of
from gates.config_files import parse_toml, parse_yaml, read_toml, read_yaml
from gates.errors import ConfigError, EvidenceError
from gates.evidence.issues import load_issues
from gates.policy.effective import effective_criteria, load_policy_file
from gates.policy.recheck import effective_recheck_policy
from gates.recheck.operations import covered_alerts
from gates.stages import Stage

BILLION_LAUGHS = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("start_date: 2026-02-30\n", "start_date", "'2026-02-30' is not a valid date"),
        ("when: 2026-01-01 25:00:00\n", "when", "is not a valid date or time"),
        ("? [a, b]\n: 1\n", "(top)", "a sequence used as a key"),
        ("m: {? {x: 1} : 2}\n", "m", "a dict used as a key"),
        ("budgets: {poc: 1" + "0" * 5000 + "}\n", "budgets.poc", "too large"),
        ("n: 0x" + "f" * 40 + "\n", "n", "64-bit"),
        ("v: [1, .nan]\n", "v.1", "nan is not a finite number"),
        ("v: .inf\n", "v", "inf is not a finite number"),
        ("v: -.Inf\n", "v", "-inf is not a finite number"),
        ("v: 1.0e+999\n", "v", "inf is not a finite number"),
        ("on: 1\n", "True", "read as a boolean"),
        ("2026-01-05: x\n", "2026-01-05", "read as a date"),
        ("a: " + "[" * 70 + "]" * 70 + "\n", "a.0.0", "nested more than 64 levels"),
        (BILLION_LAUGHS, "(top)", "expands to more than 1,000,000 values"),
        ("a: 1\na: 2\n", "", "duplicate key 'a'"),
        ("x: &x {y: *x}\n", "", "recursive"),
        ("[" * 20_000, "", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_a_config_error_naming_file_and_field(
    text: str, field: str, says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_yaml(text, "usecases/alpha.yaml")
    message = raised.value.message
    assert message.startswith("usecases/alpha.yaml: "), message
    assert says in message, message
    assert f"{field}: " in message or f"{field}." in message, message


def test_yaml_merge_keys_may_be_overridden_and_stay_valid() -> None:
    data = parse_yaml("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n", "f.yaml")
    assert data["m"] == {"x": 3, "y": 2}


def test_a_yaml_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"id: alpha\ntitle: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"spec\.yaml: not UTF-8 text \(byte 20"):
        read_yaml(path)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[explore]\nweights = {impact = nan}\n", "explore.weights.impact: nan is not a finite"),
        ("[alerts]\ntimeout_seconds = inf\n", "alerts.timeout_seconds: inf is not a finite"),
        ("x = -1e999\n", "x: -inf is not a finite"),
        ("[schedule]\nworkers = 1" + "0" * 5000 + "\n", "line 2 (field workers): an integer too"),
        ("n = 9223372036854775807\nm = 0x" + "f" * 20 + "\n", "m: an integer outside"),
        ("d = 2026-02-30\n", "not valid TOML: Invalid date"),
    ],
)
def test_hostile_toml_is_a_config_error_naming_file_and_field(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_toml(text, "stagegate.toml")
    assert raised.value.message.startswith("stagegate.toml: ")
    assert says in raised.value.message, raised.value.message


def test_a_toml_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "stagegate.toml"
    path.write_bytes(b'[store]\nuri = "\xff"\n')
    with pytest.raises(ConfigError, match=r"stagegate\.toml: not UTF-8 text"):
        read_toml(path)


def test_a_nan_metric_threshold_is_refused_not_locked_as_null() -> None:
    """Before: the criteria validated and their digest locked ``"value": null``."""
    nan_bar = [{"metric": "accuracy", "op": ">=", "value": math.nan}]
    with pytest.raises(ConfigError, match=r"criteria\.poc\.metrics\.0\.value"):
        effective_criteria(Stage.POC, {"metrics": nan_bar}, source="usecases/alpha.yaml")
    inf_budget = {"budget_stage": "pilot", "warn_ratio": math.inf}
    with pytest.raises(ConfigError, match=r"criteria\.poc\.cost\.warn_ratio"):
        effective_criteria(Stage.POC, {"cost": inf_budget})


def test_recheck_thresholds_refuse_nan_and_infinity() -> None:
    with pytest.raises(ConfigError, match=r"recheck\.production\.health\.quality\.target"):
        effective_recheck_policy(Stage.PRODUCTION, {"health": {"quality": {"target": math.nan}}})
    with pytest.raises(ConfigError, match=r"recheck\.production\.health\.latency_ms\.p95"):
        effective_recheck_policy(Stage.PRODUCTION, {"health": {"latency_ms": {"p95": math.inf}}})


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 10**5000, {"deep": [1, {"x": math.nan}]}],
    ids=["nan", "inf", "-inf", "huge-int", "nested-nan"],
)
def test_canonical_json_refuses_what_it_cannot_encode_naming_where(value: object) -> None:
    with pytest.raises(NonCanonicalValue, match=r"refusing to encode \$"):
        canonical_json({"criteria": value})
    with pytest.raises(NonCanonicalValue):
        digest_of([value])


def test_a_policy_file_refuses_duplicate_keys_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("poc:\n  approvals: {sponsor: 1}\npoc:\n  approvals: {sponsor: 0}\n")
    with pytest.raises(ConfigError, match="duplicate key 'poc'"):
        load_policy_file(path)
    path.write_text("poc:\n  cost: {budget_stage: pilot, warn_ratio: .nan}\n")
    with pytest.raises(ConfigError, match=r"poc\.cost\.warn_ratio: nan is not a finite number"):
        load_policy_file(path)


def test_an_alert_rule_file_with_an_impossible_date_is_an_evidence_error() -> None:
    raw = b"groups:\n- rules:\n  - alert: Latency\n    since: 2026-02-30\n"
    with pytest.raises(EvidenceError, match=r"rules\.yaml: groups\.0\.rules\.0\.since"):
        covered_alerts(raw, "rules.yaml")
    with pytest.raises(EvidenceError, match="duplicate key 'alert'"):
        covered_alerts(b"groups:\n- rules:\n  - {alert: a, alert: b}\n", "rules.yaml")


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        (
            "issues.yaml",
            "- {id: A, title: x, kind: blocker, severity: major, status: open, "
            "since: 2026-02-30}\n",
            "0.since: '2026-02-30' is not a valid date",
        ),
        ("issues.yaml", "- ? [a]\n  : 1\n", "a sequence used as a key"),
        ("issues.json", '[{"id": NaN}]', "NaN is not a JSON number"),
        ("issues.json", "[" * 20_000, "nested too deeply"),
    ],
)
def test_an_issue_file_with_hostile_values_is_an_evidence_error(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(EvidenceError) as raised:
        load_issues(str(path))
    assert str(path) in raised.value.message and says in raised.value.message
