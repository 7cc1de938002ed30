"""Entries name evidence the same way on every machine: relative to the workspace.

A gate recorded ``/tmp/…/usecases/alpha.yaml`` and ``/tmp/…/data/poc_test_set.csv``:
the path of the machine that ran it. Locations inside the workspace are now recorded
relative to it, files in an ``[evidence] roots`` folder from that root as the settings
write it, and anything else as it was.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from gates.stages import Stage
from gates.workspace.loader import load_workspace
from gates.workspace.portable import portable_location
from gates.workspace.settings import EvidenceSettings
from tests.support.world import World


def payload(root: Path, usecase: str, sequence: int) -> str:
    doc = json.loads(
        (root / "ledger" / "chains" / usecase / f"{sequence:012d}.dsse.json").read_text()
    )
    return base64.b64decode(doc["payload"]).decode("utf-8")


def evidence_uris(text: str) -> list[str]:
    gate = json.loads(text)["predicate"]["gate"]
    return [ev["uri"] for check in gate["checks"] for ev in check["evidence"]]


def test_a_gate_entry_records_workspace_files_relative_to_the_workspace(
    world: World,
) -> None:
    world.register("alpha", 0)
    entry = world.promote_approved("alpha", Stage.POC, 10)

    text = payload(world.root, "alpha", entry.sequence)
    assert str(world.root) not in text
    uris = evidence_uris(text)
    assert "usecases/alpha.yaml" in uris  # the sponsorship check's spec file
    assert "docs/candidates.md" in uris
    assert not [u for u in uris if u.startswith("/")]


def test_a_file_in_an_evidence_root_is_named_from_that_root(world: World, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.move(world.root / "docs" / "matrix.md", shared / "matrix.md")
    spec = world.root / "usecases" / "alpha.yaml"
    spec.write_text(spec.read_text().replace("docs/matrix.md", str(shared / "matrix.md")))
    world.append_settings('[evidence]\nroots = ["../shared"]\n')
    world.register("alpha", 0)

    entry = world.promote_approved("alpha", Stage.POC, 10)

    uris = evidence_uris(payload(world.root, "alpha", entry.sequence))
    assert "../shared/matrix.md" in uris
    assert str(tmp_path) not in json.dumps(uris)


@pytest.fixture
def workspace(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "ws"
    root.mkdir()
    (root / "stagegate.toml").write_text("")
    return load_workspace(root)


def test_locations_are_made_portable_only_when_it_is_certain_where_they_point(
    workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = workspace.root
    ws = replace(
        workspace,
        settings=workspace.settings.model_copy(
            update={"evidence": EvidenceSettings(roots=["/srv/reports", "../team"])}
        ),
    )
    cases = {
        f"{root}/data/poc_test_set.csv": "data/poc_test_set.csv",
        f"sqlite:///{root}/mlflow.db": "sqlite:///mlflow.db",
        f"sqlite:///{root}/mlflow.db#experiment=bot-monitoring": "sqlite:///mlflow.db#experiment=bot-monitoring",
        f"{tmp_path}/team/q3/costs.csv": "../team/q3/costs.csv",
        "/srv/reports/pilot.md": "/srv/reports/pilot.md",
        "/etc/hostname": "/etc/hostname",  # outside every root: as it was
        "data/already-relative.csv": "data/already-relative.csv",
        "s3://bucket/data.csv": "s3://bucket/data.csv",
        "runs:/0123abcd": "runs:/0123abcd",
        "models:/bot/3": "models:/bot/3",
        "sqlite:////elsewhere/mlflow.db": "sqlite:////elsewhere/mlflow.db",
        "ledger:alpha#4": "ledger:alpha#4",
    }
    for location, expected in cases.items():
        assert portable_location(ws, location) == expected, location


def test_a_workspace_reached_through_a_symlink_is_still_the_workspace(
    workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / "link"
    link.symlink_to(workspace.root)
    linked = load_workspace(link)
    assert portable_location(linked, f"{workspace.root}/data/x.csv") == "data/x.csv"
    assert portable_location(workspace, f"{link}/data/x.csv") == "data/x.csv"
