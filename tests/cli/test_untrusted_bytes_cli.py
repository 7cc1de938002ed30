"""The commands that read the ledger meet tampered bytes with a named finding, never a traceback.

A non-ASCII character inside an envelope's base64 (in the store or in a bundle) is what
a careless edit or a hostile one leaves behind. Exit codes follow the README: ``audit
verify``, ``audit log`` and ``audit show`` exit 1 naming the entry; ``status`` needs a
verified chain and exits 2 with one message naming it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gates.ledger.entry import entry_key
from tests.support.cli import run
from tests.support.forge import edit_envelope, with_non_ascii
from tests.support.presets import ledger_world


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    world = ledger_world(tmp_path / "ws")
    world.register("alpha")
    world.approve("alpha", "sponsor", 0)
    return world.root


def tamper(ws: Path, field: str) -> None:
    path = ws / "ledger" / entry_key("alpha", 1)
    path.write_bytes(edit_envelope(path.read_bytes(), field))


def no_traceback(result: object) -> None:
    assert "Traceback" not in getattr(result, "stderr", ""), getattr(result, "stderr", "")


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_audit_verify_names_the_entry_with_non_ascii_base64_and_exits_1(
    ws: Path, field: str
) -> None:
    tamper(ws, field)
    human = run("--workspace", str(ws), "audit", "verify")
    as_json = run("--workspace", str(ws), "audit", "verify", "--json")
    for result in (human, as_json):
        no_traceback(result)
        assert result.returncode == 1, result.stderr
    assert "alpha#1: [envelope-malformed]" in human.stdout
    violations = json.loads(as_json.stdout)["violations"]
    assert [(v["useCase"], v["sequence"], v["rule"]) for v in violations] == [
        ("alpha", 1, "envelope-malformed")
    ]


def test_status_of_a_chain_with_non_ascii_base64_exits_2_naming_the_entry(ws: Path) -> None:
    tamper(ws, "payload")
    for args in (("status",), ("status", "alpha"), ("status", "--json")):
        result = run("--workspace", str(ws), *args)
        no_traceback(result)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "alpha#1: [envelope-malformed]" in result.stderr


def test_audit_log_and_show_name_the_entry_with_non_ascii_base64_and_exit_1(ws: Path) -> None:
    tamper(ws, "sig")
    log = run("--workspace", str(ws), "audit", "log", "alpha")
    log_json = run("--workspace", str(ws), "audit", "log", "alpha", "--json")
    show = run("--workspace", str(ws), "audit", "show", "alpha#1")
    show_json = run("--workspace", str(ws), "audit", "show", "alpha#1", "--json")
    for result in (log, log_json, show, show_json):
        no_traceback(result)
        assert result.returncode == 1, result.stdout + result.stderr
    assert "alpha#1: [envelope-malformed]" in log.stdout
    assert "alpha#1: [envelope-malformed]" in show.stdout
    assert [v["rule"] for v in json.loads(log_json.stdout)["violations"]] == ["envelope-malformed"]
    assert [v["rule"] for v in json.loads(show_json.stdout)["violations"]] == ["envelope-malformed"]


def test_audit_verify_of_a_bundle_with_non_ascii_base64_exits_1(ws: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "alpha.bundle.json"
    exported = run("--workspace", str(ws), "audit", "export", "alpha", "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(bundle.read_bytes())
    doc["entries"][0]["envelope"] = with_non_ascii(doc["entries"][0]["envelope"])
    inner = base64.b64decode(doc["entries"][1]["envelope"])
    doc["entries"][1]["envelope"] = base64.b64encode(edit_envelope(inner, "payload")).decode()
    bundle.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")

    result = run("--workspace", str(ws), "audit", "verify", "--bundle", str(bundle), "--json")

    no_traceback(result)
    assert result.returncode == 1, result.stderr
    found = {(v["sequence"], v["rule"]) for v in json.loads(result.stdout)["violations"]}
    assert {(0, "envelope-malformed"), (1, "envelope-malformed")} <= found


def test_a_bundle_that_is_not_json_at_all_is_an_error_naming_the_file(
    ws: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "deep.bundle.json"
    bundle.write_bytes(b"[" * 100_000)
    result = run("--workspace", str(ws), "audit", "verify", "--bundle", str(bundle))
    no_traceback(result)
    assert result.returncode == 2 and str(bundle) in result.stderr
