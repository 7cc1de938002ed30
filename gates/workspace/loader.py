"""Find, load and validate a workspace: settings file, use-case specs and trust."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gates.errors import ConfigError
from gates.policy.effective import (
    default_policy,
    effective_criteria,
    load_policy_file,
    pydantic_problems,
)
from gates.policy.model import ExitCriteria
from gates.stages import Stage
from gates.workspace.settings import Settings
from gates.workspace.usecase import UseCaseSpec
from gates.workspace.yaml_strict import load_yaml

SETTINGS_FILE = "stagegate.toml"
USECASES_DIR = "usecases"
ENV_WORKSPACE = "STAGEGATE_WORKSPACE"


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace. Relative paths in it resolve against ``root``."""

    root: Path
    settings: Settings
    usecases: dict[str, UseCaseSpec] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    def resolve(self, location: str) -> str:
        """A path relative to the workspace becomes absolute; URLs stay as they are."""
        if "://" in location:
            return location
        path = Path(location).expanduser()
        return str(path if path.is_absolute() else self.root / path)

    def usecase(self, usecase_id: str) -> UseCaseSpec:
        try:
            return self.usecases[usecase_id]
        except KeyError:
            known = ", ".join(sorted(self.usecases)) or "none"
            raise ConfigError(
                str(self.root / USECASES_DIR),
                [f"no use case {usecase_id!r} (known: {known})"],
            ) from None

    def policy(self) -> dict[str, dict[str, Any]]:
        if self.settings.policy.path:
            return load_policy_file(Path(self.resolve(self.settings.policy.path)))
        return default_policy()

    def criteria(self, usecase: UseCaseSpec, stage: Stage) -> ExitCriteria:
        """Effective exit criteria of ``stage`` for ``usecase`` (defaults + overrides)."""
        return effective_criteria(
            stage,
            usecase.criteria.get(stage.value),
            policy=self.policy(),
            source=str(self.sources.get(usecase.id, usecase.id)),
        )

    @property
    def store_uri(self) -> str:
        uri = os.environ.get("STAGEGATE_STORE") or self.settings.store.uri
        return self.resolve(uri)

    @property
    def tracking_uri(self) -> str:
        uri = self.settings.mlflow.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            return prefix + str(self.root / uri[len(prefix) :])
        return uri


def find_workspace(explicit: Path | None = None, cwd: Path | None = None) -> Path:
    """--workspace, then $STAGEGATE_WORKSPACE, then the nearest folder with stagegate.toml."""
    if explicit is not None:
        return explicit
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return Path(env)
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise ConfigError(
        str(here),
        [f"no {SETTINGS_FILE} here or in any parent folder"],
        hint="pass --workspace DIR, set STAGEGATE_WORKSPACE, or run `stagegate demo --workspace DIR`",
    )


def load_settings(root: Path) -> Settings:
    path = root / SETTINGS_FILE
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), ["settings file not found"]) from None
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read: {e.strerror}"]) from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(str(path), [f"not valid TOML: {e}"]) from e
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(str(path), pydantic_problems(e)) from e


def load_usecase(path: Path) -> UseCaseSpec:
    try:
        raw = load_yaml(path.read_text("utf-8"))
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read: {e.strerror}"]) from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(str(path), [f"not valid YAML: {e}"]) from e
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["expected a mapping with id, title, owner, department, ..."])
    try:
        spec = UseCaseSpec.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(str(path), pydantic_problems(e)) from e
    if spec.id != path.stem:
        raise ConfigError(str(path), [f"id: {spec.id!r} must match the file name {path.stem!r}"])
    return spec


def load_workspace(root: Path | None = None) -> Workspace:
    """Load settings and every use-case spec; raise one ConfigError listing all problems."""
    root = find_workspace(root).resolve()
    if not root.is_dir():
        raise ConfigError(str(root), ["workspace folder does not exist"])
    settings = load_settings(root)
    usecases: dict[str, UseCaseSpec] = {}
    sources: dict[str, Path] = {}
    problems: list[str] = []
    folder = root / USECASES_DIR
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    for path in paths:
        try:
            spec = load_usecase(path)
        except ConfigError as e:
            problems.append(e.message)
            continue
        usecases[spec.id] = spec
        sources[spec.id] = path
    if problems:
        raise ConfigError(str(folder), problems)
    return Workspace(root=root, settings=settings, usecases=usecases, sources=sources)


def validate_workspace(workspace: Workspace) -> list[str]:
    """Every problem that loading alone does not catch: criteria, evidence names, keys."""
    problems: list[str] = []
    for uc_id, spec in sorted(workspace.usecases.items()):
        source = str(workspace.sources.get(uc_id, uc_id))
        for stage in (Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION):
            try:
                criteria = workspace.criteria(spec, stage)
            except ConfigError as e:
                problems.extend(f"{source}: {p}" for p in e.problems)
                continue
            for ds in criteria.datasets:
                if ds.dataset not in spec.evidence.datasets:
                    problems.append(
                        f"{source}: evidence.datasets.{ds.dataset}: required by the "
                        f"{stage.value} exit criteria (suite {ds.suite}) but not declared"
                    )
            for name in criteria.deliverables:
                if name not in spec.evidence.deliverables:
                    problems.append(
                        f"{source}: evidence.deliverables.{name}: required to leave "
                        f"{stage.label} but not declared"
                    )
            if criteria.metrics and stage.value not in spec.evidence.metrics:
                problems.append(
                    f"{source}: evidence.metrics.{stage.value}: the {stage.label} exit criteria "
                    "compare MLflow metrics but no run selector is declared"
                )
        problems.extend(_recheck_problems(spec, source))
    for key in workspace.settings.trusted_keys:
        if not Path(workspace.resolve(key.path)).is_file():
            problems.append(
                f"{workspace.root / SETTINGS_FILE}: trusted_keys.{key.name}.path: "
                f"{key.path!r} not found"
            )
    chain = workspace.settings.timestamp.tsa_certificate
    if chain:
        from gates.tsa.chain import TsaChain

        try:
            TsaChain.load(Path(workspace.resolve(chain)))
        except ConfigError as e:
            problems.extend(
                f"{workspace.root / SETTINGS_FILE}: timestamp.tsa_certificate: {e.source}: {p}"
                for p in e.problems
            )
    return problems


def _recheck_problems(spec: UseCaseSpec, source: str) -> list[str]:
    """Re-check overrides and monitoring evidence that would only fail at night otherwise."""
    from gates.recheck.policy import effective_recheck_policy

    problems: list[str] = []
    for stage_name, overrides in sorted(spec.recheck.items()):
        try:
            effective_recheck_policy(Stage(stage_name), overrides, source=source)
        except ConfigError as e:
            problems.extend(f"{source}: {p}" for p in e.problems)
    monitoring = spec.evidence.monitoring
    if monitoring and monitoring.dataset and monitoring.dataset not in spec.evidence.datasets:
        problems.append(
            f"{source}: evidence.monitoring.dataset: names {monitoring.dataset!r}, which is "
            "not declared under evidence.datasets"
        )
    return problems
