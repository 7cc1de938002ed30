"""Find, load and validate a workspace: settings file, use-case specs and trust."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gates.config_files import read_toml, read_yaml
from gates.errors import ConfigError, EvidenceError
from gates.policy.effective import default_policy, effective_criteria, load_policy_file
from gates.policy.merge import did_you_mean, pydantic_problems
from gates.policy.model import ExitCriteria
from gates.policy.recheck import effective_recheck_policy
from gates.stages import Stage
from gates.workspace.settings import SETTINGS_FILE as SETTINGS_FILE
from gates.workspace.settings import Settings
from gates.workspace.spec_files import SpecFiles
from gates.workspace.usecase import UseCaseSpec

USECASES_DIR = "usecases"
#: Workspace GX suites (JSON), read before the built-in ones of the same name.
SUITES_DIR = "expectations"
ENV_WORKSPACE = "STAGEGATE_WORKSPACE"
#: ``s3://…``, ``runs:/…``, ``models:/…``: locations that are not paths on this machine.
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace. Relative paths in it resolve against ``root``."""

    root: Path
    settings: Settings
    #: Every spec loaded, or (``specs_on_demand``) a ``SpecFiles`` reading each when asked.
    usecases: Mapping[str, UseCaseSpec] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    def resolve(self, location: str) -> str:
        """A path relative to the workspace becomes absolute; URLs stay as they are."""
        if "://" in location:
            return location
        path = Path(location)
        with contextlib.suppress(RuntimeError):  # ``~name`` of no known user stays a name
            path = path.expanduser()
        return str(path if path.is_absolute() else self.root / path)

    @property
    def evidence_roots(self) -> tuple[Path, ...]:
        """Folders evidence may be read from: the workspace, then ``[evidence] roots``."""
        roots = [self.root, *(Path(self.resolve(r)) for r in self.settings.evidence.roots)]
        return tuple(_real(p, str(p)) for p in roots)

    def evidence_path(self, location: str) -> str:
        """Where evidence declared as ``location`` is read from, once it is known to stay inside.

        A URL is returned as it is (its reader decides). A path is made absolute against
        the workspace and must resolve, symlinks followed, inside the workspace or an
        ``[evidence] roots`` folder: ``../../etc/passwd``, ``/etc/hostname`` or a link
        to them is an EvidenceError naming the path, never a file read.
        """
        if URL.match(location):
            return location
        path = Path(self.resolve(location))
        self.contain(path, location)
        return str(path)

    def contain(self, path: Path, shown: str) -> Path:
        """``path`` resolved (symlinks followed) if inside an evidence root; EvidenceError if not."""
        target = _real(path, shown)
        roots = self.evidence_roots
        if any(target.is_relative_to(root) for root in roots):
            return target
        where = "" if target == path else f" resolves to {target}, which is"
        allowed = ", ".join(str(r) for r in roots[1:])
        raise EvidenceError(
            f"{shown}:{where} outside the workspace {roots[0]}"
            + (f" and the evidence roots ({allowed})" if allowed else "")
            + "; evidence must be read from inside them (list another folder under "
            "[evidence] roots in stagegate.toml)"
        )

    def usecase(self, usecase_id: str) -> UseCaseSpec:
        try:
            return self.usecases[usecase_id]
        except KeyError:
            known = ", ".join(sorted(self.usecases)) or "none"
            hint = did_you_mean(usecase_id, self.usecases)
            raise ConfigError(
                str(self.root / USECASES_DIR),
                [f"no use case {usecase_id!r}{hint} (known: {known})"],
            ) from None

    def policy(self) -> dict[str, dict[str, Any]]:
        if self.settings.policy.path:
            return load_policy_file(Path(self.resolve(self.settings.policy.path)))
        return default_policy()

    def criteria(self, usecase: UseCaseSpec, stage: Stage) -> ExitCriteria:
        """Everything that judges ``stage`` for ``usecase``: what the ledger locks.

        The exit criteria (defaults + overrides), the budgets they refer to and the
        stage's re-check policy, so that none of them can be loosened later without an
        approved amendment.
        """
        source = str(self.sources.get(usecase.id, usecase.id))
        exit_criteria = effective_criteria(
            stage, usecase.criteria.get(stage.value), policy=self.policy(), source=source
        )
        recheck = effective_recheck_policy(stage, usecase.recheck.get(stage.value), source=source)
        judged = {stage.value, *exit_criteria.budget_required_for}
        if exit_criteria.cost is not None:
            judged.add(exit_criteria.cost.budget_stage)
        budgets = {name: usecase.budgets[name] for name in sorted(judged & usecase.budgets.keys())}
        return exit_criteria.model_copy(
            update={"budgets": budgets, "currency": usecase.currency, "recheck": recheck}
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


def _real(path: Path, shown: str) -> Path:
    """``path`` made absolute with every symlink followed (missing tails are kept as named)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError) as e:  # symlink loops, NUL bytes
        raise EvidenceError(f"{shown}: cannot resolve the path ({e})") from e


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
    if not path.exists():
        raise ConfigError(str(path), ["settings file not found"])
    raw = read_toml(path)
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(str(path), pydantic_problems(e, model=Settings)) from e


def load_usecase(path: Path) -> UseCaseSpec:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["expected a mapping with id, title, owner, department, ..."])
    try:
        spec = UseCaseSpec.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(str(path), pydantic_problems(e, model=UseCaseSpec)) from e
    if spec.id != path.stem:
        raise ConfigError(str(path), [f"id: {spec.id!r} must match the file name {path.stem!r}"])
    return spec


def load_workspace(root: Path | None = None, *, specs_on_demand: bool = False) -> Workspace:
    """Load settings and every use-case spec; raise one ConfigError listing all problems.

    ``specs_on_demand``: find the spec files but read each only when its use case is
    asked for (``SpecFiles``), so that a night of thousands does not hold them all; a
    spec that does not load is then that use case's ConfigError, not the workspace's.
    """
    root = find_workspace(root).resolve()
    if not root.is_dir():
        raise ConfigError(str(root), ["workspace folder does not exist"])
    settings = load_settings(root)
    folder = root / USECASES_DIR
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    if specs_on_demand:
        sources = {path.stem: path for path in paths}
        return Workspace(root, settings, SpecFiles(sources, load_usecase), sources)
    usecases: dict[str, UseCaseSpec] = {}
    sources = {}
    problems: list[str] = []
    for path in paths:
        try:
            spec = load_usecase(path)
        except ConfigError as e:  # one line per problem, each naming its file
            problems.extend(f"{e.source}: {p}" for p in e.problems)
            continue
        usecases[spec.id] = spec
        sources[spec.id] = path
    if problems:
        raise ConfigError(str(folder), problems)
    return Workspace(root=root, settings=settings, usecases=usecases, sources=sources)
