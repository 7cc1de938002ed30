"""The public surface is deliberate: every exported name resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import gates


def test_every_exported_name_resolves() -> None:
    for name in gates.__all__:
        assert getattr(gates, name) is not None, name


def test_exports_are_exactly_the_documented_set() -> None:
    assert set(gates.__all__) == {
        "__version__", "Session", "promote", "register", "approve", "amend", "decide", "admit",
        "evaluate_gate", "verify_ledger", "recheck_usecase", "recheck_all", "Stage", "Status", "Verdict", "CheckResult", "StagegateError",
    }  # fmt: skip


def test_every_lazy_export_is_listed_in_all() -> None:
    assert set(gates._EXPORTS) | {"__version__"} == set(gates.__all__)


def test_importing_the_package_loads_no_heavy_library() -> None:
    probe = "import sys, gates; print(sorted(m for m in ('prefect','mlflow','great_expectations','pandas','boto3') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
