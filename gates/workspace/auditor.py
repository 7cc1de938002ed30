"""An auditor's settings file: only what verification needs — trust, clock, TSA chain.

An auditor checking a bundle brings their own ``stagegate.toml`` (or a file holding
nothing but ``[[trusted_keys]]``): the bundle's own keys are never trusted by default.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from gates.clock import Clock
from gates.config_files import read_toml
from gates.errors import ConfigError
from gates.policy.merge import pydantic_problems
from gates.signing.trust import TrustStore
from gates.workspace.settings import SETTINGS_FILE, Settings

if TYPE_CHECKING:
    from gates.tsa.authority import Timestamping


def trust_from_settings(path: Path) -> TrustStore:
    """The ``[[trusted_keys]]`` of a settings file (or of a folder's ``stagegate.toml``).

    Only the trust section matters: an auditor's file may hold nothing else.
    """
    settings, file = _auditor_settings(path)
    if not settings.trusted_keys:
        raise ConfigError(str(file), ["trusted_keys: none listed, so nothing could verify"])
    return TrustStore.load(list(settings.trusted_keys), file.parent, source=str(file))


def time_from_settings(path: Path) -> tuple[Clock, Timestamping | None]:
    """The ``[clock]`` and ``[timestamp] tsa_certificate`` of an auditor's settings file:
    whether simulated time is accepted, the tolerance, and the TSA chain tokens must
    verify against (None: tokens are not checked)."""
    from gates.tsa.authority import Timestamping
    from gates.tsa.chain import TsaChain

    settings, file = _auditor_settings(path)
    clock = Clock(settings.clock.simulated, timedelta(seconds=settings.clock.tolerance_seconds))
    chain = settings.timestamp.tsa_certificate
    if not chain:
        return clock, None
    location = Path(chain).expanduser()
    return clock, Timestamping(
        TsaChain.load(location if location.is_absolute() else file.parent / location)
    )


def _auditor_settings(path: Path) -> tuple[Settings, Path]:
    file = path / SETTINGS_FILE if path.is_dir() else path
    raw = read_toml(file)
    try:
        return Settings.model_validate(raw), file
    except ValidationError as e:
        raise ConfigError(str(file), pydantic_problems(e, model=Settings)) from e
