"""stagegate: enforced, auditable stage gates for an AI adoption roadmap.

The library is usable without the CLI and without Prefect::

    from gates import Session, Stage, promote
    outcome = promote(Session.open(Path("workspace")), "support-bot", Stage.PILOT)
    night = recheck_all(Session.open(Path("workspace")))   # what the nightly flow runs

Importing this package is cheap on purpose: names load on first use, and heavy
libraries (Prefect, MLflow, Great Expectations) only in the modules that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gates._version import __version__

#: Public name → module that defines it.
_EXPORTS = {
    "Session": "gates.workspace.session",
    "promote": "gates.engine.actions",
    "register": "gates.engine.actions",
    "approve": "gates.engine.actions",
    "amend": "gates.engine.actions",
    "decide": "gates.engine.actions",
    "admit": "gates.engine.actions",
    "evaluate_gate": "gates.engine.gate",
    "verify_ledger": "gates.ledger.verify",
    "recheck_usecase": "gates.recheck.run",
    "recheck_all": "gates.recheck.run",
    "Stage": "gates.stages",
    "Status": "gates.results",
    "Verdict": "gates.results",
    "CheckResult": "gates.results",
    "StagegateError": "gates.errors",
}

__all__ = [
    "CheckResult",
    "Session",
    "Stage",
    "StagegateError",
    "Status",
    "Verdict",
    "__version__",
    "admit",
    "amend",
    "approve",
    "decide",
    "evaluate_gate",
    "promote",
    "recheck_all",
    "recheck_usecase",
    "register",
    "verify_ledger",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gates' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from gates.engine.actions import admit, amend, approve, decide, promote, register
    from gates.engine.gate import evaluate_gate
    from gates.errors import StagegateError
    from gates.ledger.verify import verify_ledger
    from gates.recheck.run import recheck_all, recheck_usecase
    from gates.results import CheckResult, Status, Verdict
    from gates.stages import Stage
    from gates.workspace.session import Session
