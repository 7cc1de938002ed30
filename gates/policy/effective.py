"""Merge the default policy with a use case's overrides into digested exit criteria."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gates.canonical import digest_of
from gates.config_files import parse_yaml, read_yaml
from gates.errors import ConfigError
from gates.policy.merge import deep_merge, pydantic_problems
from gates.policy.model import ExitCriteria
from gates.stages import ROADMAP, Stage

DEFAULTS_NAME = "defaults.yaml"
#: Parts of the effective criteria that come from elsewhere in the spec (or from the
#: stage itself): an override of them under ``criteria.<stage>`` would be ignored.
NOT_OVERRIDABLE = {
    "stage": "the stage is the key this block sits under",
    "budgets": "budgets come from the spec's top-level `budgets`",
    "currency": "the currency comes from the spec's top-level `currency`",
    "recheck": "re-check thresholds go under the spec's top-level `recheck.<stage>`",
}


@cache
def default_policy() -> dict[str, dict[str, Any]]:
    """The playbook's exit criteria per stage, as raw data (shipped with the package)."""
    text = resources.files("gates.policy").joinpath(DEFAULTS_NAME).read_text("utf-8")
    data = parse_yaml(text, f"gates/policy/{DEFAULTS_NAME}")
    if not isinstance(data, dict):
        raise ConfigError(DEFAULTS_NAME, ["expected a mapping of stage -> exit criteria"])
    return data


def load_policy_file(path: Path) -> dict[str, dict[str, Any]]:
    """A workspace policy file replacing the defaults (same shape as ``defaults.yaml``)."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["expected a mapping of stage -> exit criteria"])
    return data


def effective_criteria(
    stage: Stage,
    overrides: dict[str, Any] | None = None,
    *,
    policy: dict[str, dict[str, Any]] | None = None,
    source: str = "policy",
) -> ExitCriteria:
    """The exit criteria of ``stage`` for one use case. Raises ConfigError naming the field."""
    policy = policy if policy is not None else default_policy()
    if stage not in ROADMAP or stage is Stage.SCALE:
        raise ConfigError(source, [f"stage {stage.value!r} has no exit gate"])
    ignored = sorted(NOT_OVERRIDABLE.keys() & (overrides or {}).keys())
    if ignored:
        raise ConfigError(
            source,
            [
                f"criteria.{stage.value}.{key}: not an exit criterion; {NOT_OVERRIDABLE[key]}"
                for key in ignored
            ],
        )
    base = policy.get(stage.value)
    if not isinstance(base, dict):
        raise ConfigError(source, [f"policy has no exit criteria for stage {stage.value!r}"])
    raw = deep_merge(base, overrides or {})
    raw["stage"] = stage.value
    try:
        return ExitCriteria.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(
            source, pydantic_problems(e, prefix=f"criteria.{stage.value}", model=ExitCriteria)
        ) from e


def criteria_digest(criteria: ExitCriteria) -> str:
    """Stable digest of effective criteria: what the ledger locks when a stage starts."""
    return digest_of(criteria.model_dump(mode="json"))
