"""Seeded hostile edits of the other files a workspace holds, through their own readers.

Candidates (YAML and CSV, ``load_candidates`` then ranking), a policy file
(``load_policy_file`` then the effective criteria of every stage and their digest),
issue exports (YAML, JSON, CSV, ``load_issues``) and alert-rule files
(``covered_alerts``). Same mutations and definitions as ``test_config_mutations``:
**detected** is a ``ConfigError`` (candidates, policy) or ``EvidenceError`` (issues,
alert rules; the check turns it into an ``error`` result) naming the file; **false
pass** is a file that reads cleanly yet yields a non-finite number or an integer
outside 64 bits in what is ranked or locked; anything else raised is a **crash**.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gates.errors import ConfigError, EvidenceError
from gates.evidence.issues import load_issues
from gates.explore.candidates import COLUMNS, load_candidates
from gates.explore.scoring import effective_rules, rank_candidates
from gates.policy.effective import (
    criteria_digest,
    default_policy,
    effective_criteria,
    load_policy_file,
)
from gates.recheck.operations import covered_alerts
from gates.stages import Stage
from tests.adversarial.config_mutations import (
    JSON_VALUES,
    Duplicate,
    mutate_data,
    mutate_text,
    to_json,
    to_yaml,
)
from tests.adversarial.seeded import cases
from tests.adversarial.tally import Tally
from tests.adversarial.test_config_mutations import refused_values
from tests.support.candidates import CANDIDATES

CASES = 400
GATED = (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION)

ISSUES = [
    {"id": "ISS-1", "title": "GPU quota", "kind": "blocker", "severity": "major", "status": "open"},
    {"id": 2, "title": "latency", "kind": "issue", "severity": "minor", "status": "closed"},
]
#: The shipped policy with the PoC quality bar it asks every use case to set.
QUALITY_BAR = [{"metric": "accuracy", "op": ">=", "value": 0.85}]
POLICY = {**default_policy(), "poc": {**default_policy()["poc"], "metrics": QUALITY_BAR}}
RULES = {
    "groups": [
        {
            "name": "alpha",
            "rules": [
                {
                    "alert": "Latency",
                    "expr": "p95 > 1",
                    "for": "5m",
                    "labels": {"covers": "latency"},
                },
                {"alert": "Cost", "expr": "cost > 0.8", "labels": {"covers": "cost_80"}},
                {"record": "x", "expr": "y"},
            ],
        }
    ]
}


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()


def run(
    tally: Tally,
    path: Path,
    pristine: dict[str, Any] | list[Any],
    write: Callable[[Any], str],
    read: Callable[[Path], list[str]],
    salt: int,
    refusals: tuple[type[Exception], ...],
) -> list[str]:
    """Mutate, write, read; returns refusals whose message does not name the file."""
    unnamed: list[str] = []
    text = write(pristine).encode()
    for number, rng in cases(CASES, salt):
        if rng.random() < 0.6 and path.suffix != ".csv":
            doc = {"items": pristine} if isinstance(pristine, list) else pristine
            values = JSON_VALUES if path.suffix == ".json" else None
            what, _, edited = mutate_data(rng, doc, toml=False, values=values)
            # A list wraps into {"items": ...} for editing; an edit of that key itself
            # leaves a mapping where the list was, which is a hostile file too.
            body = edited.get("items", edited) if isinstance(pristine, list) else edited
            body = body.value if isinstance(body, Duplicate) else body
            data = write(body).encode("utf-8", "surrogatepass")
        else:
            what, data = mutate_text(rng, text)
        case = f"{path.name} case {number} ({what})"
        tally.tried += 1
        path.write_bytes(data)
        try:
            found = read(path)
        except refusals as e:
            tally.detected += 1
            message = getattr(e, "message", str(e))
            if str(path) not in message:
                unnamed.append(f"{case}: {message[:200]}")
            continue
        except Exception as e:
            tally.crash(case, e)
            continue
        if found:
            tally.false_passes.append(f"{case}: {found[:3]}")
        else:
            tally.benign += 1
    return unnamed


def read_candidates(path: Path) -> list[str]:
    candidates = load_candidates(path)
    ranking = rank_candidates(candidates, effective_rules(candidates))
    return refused_values([(r.score, r.feasibility) for r in ranking.ranked], "ranking")


def read_policy(path: Path) -> list[str]:
    policy = load_policy_file(path)
    found: list[str] = []
    for stage in GATED:
        criteria = effective_criteria(stage, policy=policy, source=str(path))
        criteria_digest(criteria)
        found += refused_values(criteria.model_dump(mode="json"), stage.value)
    return found


def read_issues(path: Path) -> list[str]:
    load_issues(str(path))
    return []


def read_rules(path: Path) -> list[str]:
    covered_alerts(path.read_bytes(), str(path))
    return []


@pytest.mark.parametrize(
    ("family", "name", "pristine", "write", "read", "refusals"),
    [
        (
            "candidates (YAML)",
            "candidates.yaml",
            {"candidates": CANDIDATES, "weights": {"impact": 2}},
            to_yaml,
            read_candidates,
            (ConfigError,),
        ),
        (
            "candidates (CSV)",
            "candidates.csv",
            CANDIDATES,
            lambda rows: to_csv(rows, list(COLUMNS)),
            read_candidates,
            (ConfigError,),
        ),
        ("policy files (YAML)", "policy.yaml", POLICY, to_yaml, read_policy, (ConfigError,)),
        ("issue exports (YAML)", "issues.yaml", ISSUES, to_yaml, read_issues, (EvidenceError,)),
        ("issue exports (JSON)", "issues.json", ISSUES, to_json, read_issues, (EvidenceError,)),
        (
            "issue exports (CSV)",
            "issues.csv",
            ISSUES,
            lambda rows: to_csv(rows, ["id", "title", "kind", "severity", "status"]),
            read_issues,
            (EvidenceError,),
        ),
        ("alert-rule files (YAML)", "rules.yaml", RULES, to_yaml, read_rules, (EvidenceError,)),
    ],
    ids=[
        "candidates-yaml",
        "candidates-csv",
        "policy",
        "issues-yaml",
        "issues-json",
        "issues-csv",
        "alert-rules",
    ],
)
def test_hostile_workspace_files_are_refused_naming_the_file_or_read_cleanly(
    tmp_path: Path,
    family: str,
    name: str,
    pristine: Any,
    write: Callable[[Any], str],
    read: Callable[[Path], list[str]],
    refusals: tuple[type[Exception], ...],
) -> None:
    path = tmp_path / name
    path.write_text(write(pristine))
    assert read(path) == []  # the pristine file reads cleanly
    tally = Tally.open(family)
    salt = sum(map(ord, family))
    unnamed = run(tally, path, pristine, write, read, salt, refusals)
    tally.assert_clean()
    assert not unnamed, "\n".join(unnamed[:10])
    assert tally.detected > CASES // 4
