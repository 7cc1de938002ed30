"""The plain read-only command lines run without Typer and give what the Typer app gives.

``stagegate --workspace DIR status`` takes the quick path (``gates.cli.quick``);
``stagegate --workspace=DIR status`` is not a quick form and goes through the Typer app.
Both must print the same bytes and exit with the same code, on an intact ledger, on a
tampered one, and on user errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gates.cli.quick import quick_command
from tests.support.cli import run
from tests.support.forge import flip_payload_byte
from tests.support.presets import ledger_world, registered_ledger_world

QUICK_FORMS = [
    ("status",),
    ("status", "--json"),
    ("status", "alpha", "--json"),
    ("status", "nobody"),
    ("audit", "verify"),
    ("audit", "verify", "--json"),
    ("audit", "verify", "alpha", "--json"),
    ("audit", "verify", "nobody"),
    ("audit", "log", "alpha"),
    ("audit", "log", "--json", "alpha"),
    ("audit", "log", "nobody"),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return registered_ledger_world(tmp_path_factory.mktemp("quick") / "ws").root


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = ledger_world(tmp_path_factory.mktemp("quick-tampered") / "ws")
    world.register("alpha")
    world.approve("alpha", "sponsor", 0)
    flip_payload_byte(world.root, "alpha", 1)
    return world.root


def _same_run(workspace: Path, args: tuple[str, ...]) -> tuple[int, str, str]:
    quick = run("--workspace", str(workspace), *args)
    typer_app = run(f"--workspace={workspace}", *args)
    assert (quick.returncode, quick.stderr) == (typer_app.returncode, typer_app.stderr)
    if "status" in args and "--json" in args and quick.returncode == 0:
        # Days in stage run on with the clock between the two processes; the rest is equal.
        rows = [json.loads(quick.stdout), json.loads(typer_app.stdout)]
        for row in (*rows[0], *rows[1]):
            row.pop("daysInStage")
        assert rows[0] == rows[1]
    else:
        assert quick.stdout == typer_app.stdout
    return quick.returncode, quick.stdout, quick.stderr


@pytest.mark.parametrize("args", QUICK_FORMS, ids=" ".join)
def test_a_quick_form_prints_what_the_typer_app_prints(ws: Path, args: tuple[str, ...]) -> None:
    assert quick_command(["--workspace", str(ws), *args]) is not None
    assert quick_command([f"--workspace={ws}", *args]) is None
    code, _, stderr = _same_run(ws, args)
    assert code == (2 if "nobody" in args else 0), stderr


@pytest.mark.parametrize(
    "args", [("audit", "verify"), ("audit", "verify", "--json"), ("audit", "log", "alpha")]
)
def test_a_quick_form_reports_tampering_as_the_typer_app_does(
    tampered: Path, args: tuple[str, ...]
) -> None:
    code, stdout, _ = _same_run(tampered, args)
    assert code == 1
    assert "violation" in stdout or "✗" in stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--help"],
        ["--help"],
        ["status", "--at", "2026-02-01"],
        ["status", "alpha", "beta"],
        ["status", "--json", "--json"],
        ["status", "--", "alpha"],
        ["status", ""],
        ["stauts"],
        ["-w"],
        ["-w", "--json", "status"],
        ["--workspace=ws", "status"],
        ["--version"],
        ["audit", "log"],
        ["audit", "log", "--json"],
        ["audit", "verify", "--workers", "1"],
        ["audit", "verify", "--bundle", "b.zip"],
        ["audit", "show", "alpha#0"],
        ["promote", "alpha"],
    ],
    ids=" ".join,
)
def test_any_other_command_line_goes_to_the_typer_app(argv: list[str]) -> None:
    assert quick_command(argv) is None


def test_the_quick_forms_are_recognised_with_or_without_a_workspace() -> None:
    assert quick_command(["status"]) is not None
    assert quick_command(["-w", "ws", "audit", "log", "alpha", "--json"]) is not None
