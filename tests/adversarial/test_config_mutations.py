"""Thousands of seeded hostile edits of a spec and a settings file, through the loader.

The world: ``tests.support.presets.ledger_world`` (real keys), whose ``alpha`` spec and
``stagegate.toml`` are replaced by richer valid ones (``config_mutations.SPEC`` and
``SETTINGS``). Each case edits one of the two files (data-level or text-level, see
``config_mutations``), seeded by its number, and runs what ``stagegate validate`` runs:
``load_workspace`` then ``validate_workspace``; when that finds nothing, everything the
ledger would lock is computed too (effective criteria of every stage and their digest,
re-check policies and their digest).

Definitions (the counts printed at the end of the run):

- **detected** (refused): a ``ConfigError`` or a ``validate`` problem, each message
  naming the edited file (checked; a message that does not is counted as a failure).
- **benign**: the edited workspace loads cleanly (the edit kept it valid: a comment, a
  number written another way, an indentation YAML accepts).
- **false pass**: it loads cleanly yet what it loaded holds a value stagegate refuses
  (NaN, an infinity, an integer outside 64 bits) anywhere in the settings, the specs,
  the effective criteria or the re-check policies, i.e. something that could be signed
  or judged by. Must be 0.
- **crash**: any other exception. Must be 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gates.errors import ConfigError
from gates.policy.effective import criteria_digest
from gates.policy.recheck import effective_recheck_policy
from gates.stages import Stage
from gates.workspace.loader import load_workspace
from gates.workspace.validation import validate_workspace
from tests.adversarial.config_mutations import (
    SETTINGS,
    SPEC,
    mutate_data,
    mutate_text,
    to_toml,
    to_yaml,
)
from tests.adversarial.seeded import SEED, cases
from tests.adversarial.tally import Tally
from tests.support.presets import ledger_world

SPEC_CASES = 2000
SETTINGS_CASES = 1000
GATED = (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION)


@dataclass
class ConfigWorld:
    root: Path
    spec_path: Path
    settings_path: Path
    spec_text: bytes
    settings_text: bytes


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> ConfigWorld:
    root = tmp_path_factory.mktemp("adversarial-config") / "ws"
    ledger_world(root, key_seed=SEED)
    (root / "usecases" / "beta.yaml").unlink()  # one spec, touching every field, is enough
    spec_text = to_yaml(SPEC).encode()
    settings_text = to_toml(SETTINGS).encode()
    world = ConfigWorld(
        root, root / "usecases" / "alpha.yaml", root / "stagegate.toml", spec_text, settings_text
    )
    restore(world)
    outcome, problems = load_and_validate(world.root)
    assert outcome == "loaded", problems
    return world


def restore(world: ConfigWorld) -> None:
    world.spec_path.write_bytes(world.spec_text)
    world.settings_path.write_bytes(world.settings_text)


def refused_values(value: Any, path: str = "") -> list[str]:
    """Where ``value`` holds NaN, an infinity or an integer outside 64 bits."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{path}: {value}"]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return [f"{path}: a {value.bit_length()}-bit integer"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in refused_values(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in refused_values(v, f"{path}.{i}")]
    return []


def load_and_validate(root: Path) -> tuple[str, list[str]]:
    """("refused", problems) or ("loaded", values that should have been refused)."""
    try:
        workspace = load_workspace(root)
    except ConfigError as e:
        return "refused", [e.message]
    problems = validate_workspace(workspace)
    if problems:
        return "refused", problems
    found = refused_values(workspace.settings.model_dump(), "settings")
    for spec in workspace.usecases.values():
        found += refused_values(spec.model_dump(), spec.id)
        for stage in GATED:
            criteria = workspace.criteria(spec, stage)
            criteria_digest(criteria)  # what a lock would sign: must be computable
            found += refused_values(criteria.model_dump(mode="json"), f"{spec.id}.{stage}")
        for stage_name, overrides in spec.recheck.items():
            policy = effective_recheck_policy(Stage(stage_name), overrides)
            assert policy.digest.startswith("sha256:")
            found += refused_values(policy.model_dump(mode="json"), f"{spec.id}.recheck")
    return "loaded", found


def run_family(
    tally: Tally, world: ConfigWorld, *, settings: bool, count: int, salt: int
) -> list[str]:
    """Run ``count`` cases; return messages that did not name the edited file."""
    target = world.settings_path if settings else world.spec_path
    pristine_doc = SETTINGS if settings else SPEC
    unnamed: list[str] = []
    for number, rng in cases(count, salt):
        if rng.random() < 0.7:
            what, _, doc = mutate_data(rng, pristine_doc, toml=settings)
            data = (to_toml(doc) if settings else to_yaml(doc)).encode("utf-8", "surrogatepass")
        else:
            what, data = mutate_text(rng, world.settings_text if settings else world.spec_text)
        case = f"{target.name} case {number} ({what})"
        tally.tried += 1
        target.write_bytes(data)
        try:
            outcome, found = load_and_validate(world.root)
        except Exception as e:
            tally.crash(case, e)
            continue
        finally:
            restore(world)
        if outcome == "refused":
            tally.detected += 1
            unnamed += [f"{case}: {p[:200]}" for p in found if str(target) not in p]
        elif found:
            tally.false_passes.append(f"{case}: {found[:3]}")
        else:
            tally.benign += 1
    return unnamed


def test_hostile_spec_edits_are_refused_naming_the_file_or_load_cleanly(
    world: ConfigWorld,
) -> None:
    tally = Tally.open("use-case specs (YAML)")
    unnamed = run_family(tally, world, settings=False, count=SPEC_CASES, salt=11)
    tally.assert_clean()
    assert not unnamed, "\n".join(unnamed[:10])
    assert tally.detected > SPEC_CASES // 2


def test_hostile_settings_edits_are_refused_naming_the_file_or_load_cleanly(
    world: ConfigWorld,
) -> None:
    tally = Tally.open("settings files (TOML)")
    unnamed = run_family(tally, world, settings=True, count=SETTINGS_CASES, salt=12)
    tally.assert_clean()
    assert not unnamed, "\n".join(unnamed[:10])
    assert tally.detected > SETTINGS_CASES // 2
