"""What the read-only commands import: only what they use, so they start fast.

Start-up time itself is measured by ``bench/bench_coldstart.py``; these tests guard the
cause without timing anything: the modules a command's process imports, as
``python -X importtime`` lists them.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

import gates.cli
from tests.support.cli import run
from tests.support.presets import registered_ledger_world

#: Libraries none of these commands needs, on a folder store with JSON output.
HEAVY = {
    "prefect",
    "great_expectations",
    "mlflow",
    "pandas",
    "pyarrow",
    "sqlalchemy",
    "boto3",
    "botocore",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "rich",
}
#: The CLI modules every command loads: the entry point, the quick path, the shared state.
CLI_CORE = {
    "gates.cli",
    "gates.cli.__main__",
    "gates.cli.main",
    "gates.cli.quick",
    "gates.cli.context",
}
#: What a command run through the Typer app loads besides: the app and its lazy group.
TYPER_APP = {"gates.cli.app", "gates.cli.lazy"}
#: The command line libraries, which the quick forms (``gates.cli.quick``) do without.
COMMAND_LINE = {"typer", "click"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return registered_ledger_world(tmp_path_factory.mktemp("coldstart") / "ws").root


def imported_by(ws: Path, *args: str) -> set[str]:
    """Every module the ``stagegate`` process running ``args`` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gates.cli", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and not line.rstrip().endswith("package")
    }


@pytest.mark.parametrize(
    ("args", "cli_modules"),
    [
        (("status", "--json"), {"gates.cli.status_view"}),
        (("audit", "verify", "--json"), {"gates.cli.audit_views"}),
        (("audit", "log", "alpha", "--json"), {"gates.cli.audit_views"}),
        # Not a quick form (``--at``): through the Typer app, still without the others.
        (
            ("status", "--json", "--at", "2026-02-01"),
            TYPER_APP | {"gates.cli.ledger_cmds", "gates.cli.status_view"},
        ),
        (
            ("audit", "verify", "--json", "--workers", "1"),
            TYPER_APP | {"gates.cli.audit", "gates.cli.audit_views", "gates.cli.report_cmds"},
        ),
    ],
    ids=["status", "audit-verify", "audit-log", "status-at", "audit-verify-workers"],
)
def test_read_only_json_commands_import_neither_heavy_libraries_nor_other_commands(
    ws: Path, args: tuple[str, ...], cli_modules: set[str]
) -> None:
    modules = imported_by(ws, *args)
    assert "gates.workspace.session" in modules  # the command did run
    heavy = {m.split(".")[0] for m in modules} & HEAVY
    assert not heavy, f"{' '.join(args)} imported {sorted(heavy)}"
    other_commands = {m for m in modules if m.startswith("gates.cli")} - CLI_CORE - cli_modules
    assert not other_commands, f"{' '.join(args)} imported {sorted(other_commands)}"
    assert "gates.store.s3" not in modules  # the workspace's store is a folder


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("status", "--json"),
        ("status", "alpha"),
        ("audit", "verify"),
        ("audit", "verify", "--json", "alpha"),
        ("audit", "log", "alpha"),
        ("audit", "log", "--json", "alpha"),
    ],
)
def test_the_plain_read_only_command_lines_run_without_typer_or_click(
    ws: Path, args: tuple[str, ...]
) -> None:
    modules = imported_by(ws, *args)
    assert "gates.workspace.session" in modules  # the command did run
    loaded = {m.split(".")[0] for m in modules} & COMMAND_LINE
    assert not loaded, f"{' '.join(args)} imported {sorted(loaded)}"
    assert not modules & TYPER_APP


@pytest.mark.parametrize(
    "args", [("status", "--json"), ("audit", "verify", "--json"), ("audit", "log", "alpha")]
)
def test_a_workspace_without_a_timestamp_authority_loads_no_x509(
    ws: Path, args: tuple[str, ...]
) -> None:
    modules = imported_by(ws, *args)
    assert "gates.workspace.session" in modules  # the command did run
    assert "cryptography.x509" not in modules
    assert "gates.tsa.chain" not in modules


def test_verifying_a_small_ledger_starts_no_workers_and_loads_none(ws: Path) -> None:
    modules = imported_by(ws, "audit", "verify", "--json")
    assert "gates.ledger.verify" in modules  # the command did verify
    assert "gates.ledger.parallel_verify" not in modules
    assert "multiprocessing" not in modules


def test_status_as_a_table_still_loads_rich(ws: Path) -> None:
    modules = imported_by(ws, "status")
    assert "rich.table" in modules


@pytest.mark.parametrize("args", [("status",), ("audit", "verify"), ("audit", "log", "alpha")])
def test_read_only_tables_load_neither_the_emoji_names_nor_the_key_file_parsers(
    ws: Path, args: tuple[str, ...]
) -> None:
    """Rich's emoji table is for ``:name:`` codes, which stagegate prints as written; the
    trusted keys are plain Ed25519 PEM files, read without ``cryptography``'s parsers."""
    modules = imported_by(ws, *args)
    assert "rich.console" in modules  # the command did print a table
    assert "rich._emoji_codes" not in modules
    assert "cryptography.hazmat.primitives.serialization" not in modules


def test_status_with_every_signature_verified_before_loads_no_cryptography(ws: Path) -> None:
    """The first run verifies the signatures and keeps the heads it verified
    (``gates.ledger.verified_heads``); the next has no signature to check, so the
    trusted keys stay raw bytes and ``cryptography`` is never imported."""
    imported_by(ws, "status", "--json")
    for args in (("status",), ("status", "--json")):
        modules = imported_by(ws, *args)
        assert "gates.workspace.session" in modules  # the command did run
        assert not {m for m in modules if m.split(".")[0] == "cryptography"}


#: Runs a command line in this process and says, on stderr, which entry-point groups were
#: read (pydantic reads ``pydantic`` for its plugins), what the plugin switch is after, and
#: whether the garbage collector is on again.
PLUGIN_PROBE = """
import gc, importlib.metadata, json, os, sys
asked = []
read = importlib.metadata.entry_points
def spy(**params):
    asked.append(params.get("group"))
    return read(**params)
importlib.metadata.entry_points = spy
sys.argv = ["stagegate", *sys.argv[1:]]
from gates.cli.main import main
try:
    main()
finally:
    after = os.environ.get("PYDANTIC_DISABLE_PLUGINS", "unset")
    print(json.dumps({"asked": asked, "after": after, "gc": gc.isenabled()}), file=sys.stderr)
"""


def _plugin_lookups(ws: Path, *args: str, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    result = subprocess.run(
        [sys.executable, "-c", PLUGIN_PROBE, "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environ, **env},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found: dict[str, object] = json.loads(result.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "args",
    [("status",), ("status", "--json"), ("audit", "verify"), ("audit", "log", "alpha", "--json")],
)
def test_a_quick_command_does_not_look_for_pydantic_plugins_and_leaves_the_process_as_it_was(
    ws: Path, args: tuple[str, ...]
) -> None:
    found = _plugin_lookups(ws, *args)
    assert found == {"asked": [], "after": "unset", "gc": True}


def test_a_users_own_pydantic_plugin_setting_is_kept(ws: Path) -> None:
    # An empty value turns no plugin off: pydantic looks for them, as the user asked.
    found = _plugin_lookups(ws, "status", PYDANTIC_DISABLE_PLUGINS="")
    assert found == {"asked": ["pydantic"], "after": "", "gc": True}


def test_commands_through_the_typer_app_keep_pydantic_plugins(ws: Path) -> None:
    found = _plugin_lookups(ws, "status", "--at", "2026-02-01")
    assert found["asked"] == ["pydantic"]


def _registered_commands() -> set[str]:
    """The root commands that the modules of ``gates.cli`` register, found without the table."""
    names = {"audit"}  # gates.cli.audit is a sub-app of its own
    for found in pkgutil.iter_modules(gates.cli.__path__):
        if found.name == "__main__":  # runs the command line when imported
            continue
        module = importlib.import_module(f"gates.cli.{found.name}")
        register = getattr(module, "register_commands", None)
        if register is None:
            continue
        root, *others = [typer.Typer() for _ in inspect.signature(register).parameters]
        register(root, *others)
        names |= set(typer.main.get_group(root).commands)
    return names


def test_the_command_table_names_every_command_the_cli_modules_register() -> None:
    from gates.cli.app import COMMANDS

    assert set(COMMANDS) == _registered_commands()


def test_help_still_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    listed = {line.strip("│ ").split(" ")[0] for line in result.stdout.splitlines() if "│ " in line}
    assert _registered_commands() <= listed
    audit = run("audit", "--help")
    assert {"verify", "log", "show", "report"} <= {
        line.strip("│ ").split(" ")[0] for line in audit.stdout.splitlines() if "│ " in line
    }


def test_a_mistyped_command_is_still_offered_the_near_one() -> None:
    result = run("stauts")
    assert result.returncode == 2
    assert "Did you mean 'status'?" in result.stderr
