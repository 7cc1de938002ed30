"""The product's demo workspace as report and UI tests read it, and a use case full of markup."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from gates.demo.scenario import run_demo
from gates.engine.actions import approve, promote, register
from gates.signing.keys import generate_keypair
from gates.signing.signers import load_signer
from gates.stages import Stage
from gates.workspace.session import Session

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
HOSTILE_ID = "xss-case"

HOSTILE_SPEC = f"""\
id: {HOSTILE_ID}
title: "{HOSTILE} assistant"
owner: eve@example.com
department: "{HOSTILE}"
sponsors: [{{name: "{HOSTILE}", title: COO}}]
budgets: {{poc: 1000}}
evidence:
  deliverables:
    candidate_list: "docs/{HOSTILE}.md"
    priority_matrix: docs/explore/priority-matrix.md
    selection_rationale: docs/explore/selection-rationale.md
"""


def build_demo(root: Path) -> Path:
    """The demo scenario (support-bot to Production, invoice-ocr stopped) in ``root``."""
    run_demo(root, use_prefect=False, console=Console(file=io.StringIO()))
    return root


def add_hostile_usecase(root: Path) -> None:
    """A use case whose spec and signed entries carry markup: title, path, approver, note."""
    (root / "usecases" / f"{HOSTILE_ID}.yaml").write_text(HOSTILE_SPEC, encoding="utf-8")
    # The ledger records an approver by the trusted-key list's name: give one a hostile name.
    generate_keypair(root / "keys" / "eve.pem")
    with (root / "stagegate.toml").open("a", encoding="utf-8") as settings:
        settings.write(
            f'\n[[trusted_keys]]\nname = "{HOSTILE}"\npath = "keys/eve.pub"\nroles = ["sponsor"]\n'
        )
    session = Session.open(root)
    register(session, HOSTILE_ID)
    eve = load_signer("file:keys/eve.pem", root)
    approve(session, HOSTILE_ID, eve, role="sponsor", note=HOSTILE)
    outcome = promote(session, HOSTILE_ID, Stage.POC)
    assert not outcome.promoted  # its deliverable path names no file
