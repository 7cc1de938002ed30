"""The command line's rough edges, each as a user met it: help texts, the version, an
unknown use case, pydantic's wording, misspellings, a duplicate approval, what comes next."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gates import __version__
from gates.cli.app import app
from gates.ledger.entry import entry_key
from tests.support.cli import run
from tests.support.presets import ledger_world


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ledger_world(root)
    return root


def _commands() -> list[tuple[list[str], list[str]]]:
    """Every command path with the help texts (its own and its parameters') it shows."""
    from typer.main import get_command

    found = []

    def walk(command: object, path: list[str]) -> None:
        params = getattr(command, "params", [])
        texts = [
            getattr(command, "help", None) or "",
            *(getattr(p, "help", "") or "" for p in params),
        ]
        found.append((path, texts))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return found


def test_every_help_text_shows_its_brackets() -> None:
    """`audit verify --help` printed "whose [] to trust": Rich markup ate [[trusted_keys]]."""
    runner = CliRunner()
    bracketed = 0
    for path, texts in _commands():
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"}, terminal_width=400)
        assert shown.exit_code == 0, (path, shown.output)
        flat = re.sub(r"[\s│]+", " ", shown.output)
        for text in texts:
            for token in re.findall(r"\[+[^\]\s]*\]+", text.replace("\\[", "[")):
                bracketed += 1
                assert token in flat, (path, token, shown.output)
    assert bracketed >= 2  # the two [[trusted_keys]] mentions at least


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"stagegate {__version__}"


def test_audit_verify_of_an_unknown_use_case_is_a_usage_error_not_a_violation(ws: Path) -> None:
    result = run("--workspace", str(ws), "audit", "verify", "alpah")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no use case 'alpah'; did you mean 'alpha'? (known: alpha, beta)" in result.stderr
    assert "chain-missing" not in result.stdout + result.stderr


def test_audit_verify_of_a_declared_use_case_without_entries_stays_a_violation(ws: Path) -> None:
    """Its chain may have been deleted whole: that is for an auditor to see, not a typo."""
    result = run("--workspace", str(ws), "audit", "verify", "alpha", "--json")
    assert result.returncode == 1
    assert [v["rule"] for v in json.loads(result.stdout)["violations"]] == ["chain-missing"]


def test_a_wrong_type_in_the_settings_is_said_plainly_naming_file_and_field(ws: Path) -> None:
    settings = ws / "stagegate.toml"
    settings.write_text(
        settings.read_text().replace('[store]\nuri = "ledger"', 'store = "ledger"')
        + "[schedule]\nworkers = 0\ntask_runner = 'dusk'\n"
    )
    result = run("--workspace", str(ws), "validate")
    assert result.returncode == 2
    out = " ".join(result.stdout.split())
    assert (
        "stagegate.toml: store: expected a mapping (a YAML mapping or a TOML table), found 'ledger'"
        in out
    )
    assert "schedule.workers: must be at least 1, found 0" in out
    assert "schedule.task_runner: expected 'threads' or 'dask', found 'dusk'" in out
    assert "Input should be" not in out and "instance of" not in out


def test_misspelt_fields_sections_and_stages_get_a_did_you_mean(ws: Path) -> None:
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(
        spec.read_text()
        .replace("sponsors:", "sponser:")
        .replace("budgets: {poc:", "budgets: {explor: 1, poc:")
    )
    settings = ws / "stagegate.toml"
    settings.write_text(settings.read_text().replace("[signing]", "[singing]"))
    result = run("--workspace", str(ws), "validate", "--json")
    assert result.returncode == 2
    problems = "\n".join(json.loads(result.stdout)["errors"])
    assert "singing: unknown field; did you mean 'signing'?" in problems
    settings.write_text(settings.read_text().replace("[singing]", "[signing]"))
    problems = "\n".join(
        json.loads(run("--workspace", str(ws), "validate", "--json").stdout)["errors"]
    )
    assert "alpha.yaml: sponser: unknown field; did you mean 'sponsors'?" in problems
    assert "did you mean 'explore'?" in problems


def test_a_misspelt_criterion_gets_a_did_you_mean(ws: Path) -> None:
    spec = ws / "usecases" / "alpha.yaml"
    spec.write_text(spec.read_text().replace("    metrics: [", "    metric: [", 1))
    result = run("--workspace", str(ws), "validate", "--json")
    assert result.returncode == 2
    problems = "\n".join(json.loads(result.stdout)["errors"])
    assert "criteria.poc.metric: unknown field; did you mean 'metrics'?" in problems


def test_a_misspelt_role_in_approve_gets_a_did_you_mean_and_writes_nothing(ws: Path) -> None:
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    result = run(
        "--workspace", str(ws), "approve", "alpha", "--role", "sponser", "--key", "keys/sponsor.pem"
    )
    assert result.returncode == 2
    assert "may not sign as 'sponser'; did you mean 'sponsor'?" in " ".join(result.stderr.split())
    assert not (ws / "ledger" / entry_key("alpha", 1)).exists()


def test_a_duplicate_approval_is_refused_with_a_clear_message(ws: Path) -> None:
    assert run("--workspace", str(ws), "register", "alpha").returncode == 0
    approve = (
        "--workspace",
        str(ws),
        "approve",
        "alpha",
        "--role",
        "sponsor",
        "--key",
        "keys/sponsor.pem",
    )
    assert run(*approve).returncode == 0
    again = run(*approve)
    assert again.returncode == 2
    message = " ".join(again.stderr.split())
    assert "dana already approved as sponsor under these criteria (entry #1)" in message
    assert "Traceback" not in message
    assert not (ws / "ledger" / entry_key("alpha", 2)).exists()


def test_approving_an_unregistered_use_case_says_to_register_it(ws: Path) -> None:
    result = run(
        "--workspace", str(ws), "approve", "alpha", "--role", "sponsor", "--key", "keys/sponsor.pem"
    )
    assert result.returncode == 2
    assert "not registered yet" in result.stderr and "stagegate register alpha" in result.stderr


def test_register_and_approve_say_what_comes_next(ws: Path) -> None:
    registered = run("--workspace", str(ws), "register", "alpha")
    assert registered.returncode == 0, registered.stderr
    said = " ".join(registered.stdout.split())
    workspace = f"stagegate --workspace {ws}"
    assert f"$ {workspace} approve alpha --role budget_owner --key keys/budget.pem" in said
    assert f"$ {workspace} approve alpha --role sponsor --key keys/sponsor.pem" in said
    assert f"$ {workspace} promote alpha --to poc" in said

    approved = run(
        "--workspace", str(ws), "approve", "alpha", "--role", "sponsor", "--key", "keys/sponsor.pem"
    )
    said = " ".join(approved.stdout.split())
    assert "--role budget_owner" in said and "--role sponsor" not in said
    assert f"$ {workspace} promote alpha --to poc --dry-run" in said
