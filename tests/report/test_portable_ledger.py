"""The demo's ledger, report and bundle carry no path of the machine that made them.

Entries recorded ``/tmp/…/data/poc_test_set.csv``, the installed suite's path and
``sqlite:////tmp/…/mlflow.db``; MLflow start times as epoch milliseconds.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from gates.ledger.bundle import export_bundle
from gates.report.site import write_site
from gates.workspace.session import Session

REPO = Path(__file__).resolve().parents[2]


def payloads(root: Path) -> list[str]:
    return [
        base64.b64decode(json.loads(path.read_bytes())["payload"]).decode("utf-8")
        for path in sorted((root / "ledger" / "chains").rglob("*.dsse.json"))
    ]


def test_entries_name_evidence_inside_the_workspace_by_relative_paths(demo_root: Path) -> None:
    texts = payloads(demo_root)
    assert len(texts) == 19
    for text in texts:
        assert str(demo_root) not in text and str(REPO) not in text
        assert "start_time_ms" not in text
    everything = "\n".join(texts)
    for recorded in (
        '"uri":"data/poc_test_set.csv"',
        '"uri":"builtin:poc_test_set.json"',
        '"tracking_uri":"sqlite:///mlflow.db"',
        '"uri":"sqlite:///mlflow.db#experiment=support-bot-monitoring"',
        '"uri":"usecases/support-bot.yaml"',
        '"uri":"ops/alert-rules.yaml"',
    ):
        assert recorded in everything, recorded
    assert '"start_time":"20' in everything  # ISO 8601, not epoch milliseconds


def test_the_report_and_a_bundle_show_no_path_of_this_machine(
    demo_root: Path, tmp_path: Path
) -> None:
    session = Session.open(demo_root)
    out = tmp_path / "report"
    write_site(session, out, datetime.now(UTC))
    for page in out.rglob("*.html"):
        text = page.read_text("utf-8")
        assert str(demo_root) not in text and str(REPO) not in text, page
    bundle, _ = export_bundle(session.ledger, "support-bot")
    # The envelopes travel base64-encoded: read what they carry, as an auditor would.
    carried = [
        base64.b64decode(json.loads(base64.b64decode(e.envelope))["payload"]).decode("utf-8")
        for e in bundle.entries
    ]
    assert len(carried) > 5
    for text in [bundle.model_dump_json(), *carried]:
        assert str(demo_root) not in text and str(REPO) not in text
