"""Prefect deployments of stagegate's flows: promotion on request, the re-check every night.

``stagegate-promote`` runs the gate flow (``flows.gate_flow``) when someone asks for it
(the Prefect UI or API, ``prefect deployment run``, CI) with a use case and a target
stage. ``stagegate-nightly`` runs the nightly re-check (``flows.nightly``) on the cron
schedule and in the time zone of the workspace's ``[schedule]`` settings.

``serve_deployments`` registers both with the Prefect server named by ``PREFECT_API_URL``
and runs their flow runs from this process until it is stopped (``stagegate serve``).
``infra/prefect/prefect.yaml`` declares the same two for ``prefect deploy`` onto a work
pool; entrypoints are module paths, so they resolve wherever stagegate is installed,
whatever the working directory. A test keeps the file and ``DEPLOYMENTS`` equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gates.errors import ConfigError, StagegateError
from gates.stack.prefect_server import prefect_api_healthy
from gates.workspace.loader import SETTINGS_FILE, Workspace, load_workspace

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.types.entrypoint import EntrypointType

__all__ = [
    "DEPLOYMENTS",
    "NIGHTLY",
    "PROMOTE",
    "DeploymentSpec",
    "build_deployments",
    "nightly_deployment",
    "promote_deployment",
    "require_prefect_api",
    "serve_deployments",
]


@dataclass(frozen=True)
class DeploymentSpec:
    """What is fixed about a deployment; the workspace and the schedule come from settings."""

    name: str
    #: The flow as a module path (``package.module.function``).
    entrypoint: str
    flow_name: str
    description: str
    tags: tuple[str, ...]


PROMOTE = DeploymentSpec(
    name="stagegate-promote",
    entrypoint="flows.gate_flow.gate_flow",
    flow_name="stagegate-gate",
    description="Run a use case's gate to the target stage and record the signed verdict. "
    "Parameters: usecase, to (the target stage); workspace is preset.",
    tags=("stagegate", "promotion"),
)
NIGHTLY = DeploymentSpec(
    name="stagegate-nightly",
    entrypoint="flows.nightly.nightly_recheck",
    flow_name="stagegate-nightly-recheck",
    description="Re-check every use case's current stage (SLOs, cost, time boxes), sign "
    "one re-check entry each and alert on failures.",
    tags=("stagegate", "nightly"),
)
DEPLOYMENTS = (PROMOTE, NIGHTLY)


def _module_path() -> EntrypointType:
    from prefect.types.entrypoint import EntrypointType

    return EntrypointType.MODULE_PATH


#: ``to_deployment`` returns a coroutine when called from async code unless told not to;
#: these builders are synchronous wherever they are called from.
_SYNC: dict[str, Any] = {"_sync": True}


def _built(deployment: object) -> RunnerDeployment:
    from prefect.deployments.runner import RunnerDeployment

    if not isinstance(deployment, RunnerDeployment):  # pragma: no cover (guarded by _SYNC)
        raise TypeError(f"expected a RunnerDeployment, got {type(deployment).__name__}")
    return deployment


def promote_deployment(workspace: Workspace) -> RunnerDeployment:
    """The gate flow, on request; ``usecase`` and ``to`` are given per run."""
    from flows.gate_flow import gate_flow

    return _built(
        gate_flow.to_deployment(
            name=PROMOTE.name,
            parameters={"workspace": str(workspace.root)},
            description=PROMOTE.description,
            tags=list(PROMOTE.tags),
            entrypoint_type=_module_path(),
            **_SYNC,
        )
    )


def nightly_deployment(workspace: Workspace) -> RunnerDeployment:
    """The nightly re-check of every use case, on the workspace's cron and time zone."""
    from prefect.schedules import Cron
    from pydantic import ValidationError

    from flows.nightly import nightly_recheck

    schedule = workspace.settings.schedule
    try:
        cron = Cron(schedule.cron, timezone=schedule.timezone)
        return _built(
            nightly_recheck.to_deployment(
                name=NIGHTLY.name,
                schedules=[cron],
                parameters={"workspace": str(workspace.root)},
                description=NIGHTLY.description,
                tags=list(NIGHTLY.tags),
                entrypoint_type=_module_path(),
                **_SYNC,
            )
        )
    except (ValidationError, ValueError) as e:
        raise ConfigError(
            str(workspace.root / SETTINGS_FILE),
            [
                f"schedule: cron {schedule.cron!r} with timezone {schedule.timezone!r} "
                f"is not a valid schedule ({_reason(e)})"
            ],
            hint='e.g. cron = "0 2 * * *", timezone = "Europe/Berlin" (an IANA time zone)',
        ) from e


def _reason(error: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        return "; ".join(str(detail["msg"]) for detail in error.errors())
    return str(error).strip() or type(error).__name__


def build_deployments(workspace: Path | None = None) -> list[RunnerDeployment]:
    """Both deployments for the workspace at ``workspace`` (or the one found from here)."""
    loaded = load_workspace(workspace)
    return [promote_deployment(loaded), nightly_deployment(loaded)]


def require_prefect_api() -> str:
    """The configured Prefect API URL, once it answers; StagegateError otherwise.

    A schedule needs a server that outlives this process, so Prefect's ephemeral API
    (what an unset ``PREFECT_API_URL`` means) is refused rather than started.
    """
    from prefect.settings import get_current_settings

    api = get_current_settings().api
    url = api.url
    if not url:
        raise StagegateError(
            "PREFECT_API_URL is not set: serving deployments needs a Prefect server that "
            "keeps their schedules",
            hint='start one with `stagegate stack up` and `eval "$(stagegate stack env)"`, '
            "or point PREFECT_API_URL at your Prefect server",
        )
    answered = prefect_api_healthy(
        url,
        timeout=10,
        api_key=api.key.get_secret_value() if api.key else None,
        auth_string=api.auth_string.get_secret_value() if api.auth_string else None,
    )
    if not answered:
        raise StagegateError(
            f"the Prefect API at {url} (PREFECT_API_URL) did not answer its health check",
            hint="start the server, or correct PREFECT_API_URL",
        )
    return url


def serve_deployments(workspace: Path | None = None, *, limit: int | None = None) -> None:
    """Register both deployments and run their flow runs here until interrupted."""
    from prefect import serve

    require_prefect_api()
    serve(*build_deployments(workspace), limit=limit)
