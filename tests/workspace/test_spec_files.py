"""Specs read on demand: a night's workspace knows every spec file but holds only a few specs."""

from __future__ import annotations

import gc
import weakref

import pytest

from gates.errors import ConfigError
from gates.workspace.loader import load_workspace
from gates.workspace.spec_files import SpecFiles
from gates.workspace.usecase import UseCaseSpec
from tests.support.world import World


def test_specs_on_demand_know_every_use_case_and_read_the_same_specs(world: World) -> None:
    full = load_workspace(world.root)
    lazy = load_workspace(world.root, specs_on_demand=True)

    assert isinstance(lazy.usecases, SpecFiles)
    assert sorted(lazy.usecases) == sorted(full.usecases) == ["alpha", "beta"]
    assert lazy.sources == full.sources
    assert lazy.usecase("alpha") == full.usecase("alpha")
    with pytest.raises(ConfigError, match="no use case 'gamma'"):
        lazy.usecase("gamma")


def test_specs_on_demand_hold_only_the_last_few_read(world: World) -> None:
    """A night of thousands must not keep every spec it has read."""
    for i in range(12):
        (world.root / "usecases" / f"gen-{i:02d}.yaml").write_text(
            f"id: gen-{i:02d}\ntitle: Generated {i}\nowner: o@example.com\ndepartment: ops\n"
        )
    workspace = load_workspace(world.root, specs_on_demand=True)
    assert isinstance(workspace.usecases, SpecFiles)
    workspace.usecases.keep = 3
    read: list[weakref.ref[UseCaseSpec]] = []
    for uc in workspace.usecases:
        read.append(weakref.ref(workspace.usecase(uc)))
    gc.collect()

    alive = [ref() for ref in read if ref() is not None]
    assert len(read) == 14 and [spec.id for spec in alive if spec] == ["gen-09", "gen-10", "gen-11"]


def test_a_broken_spec_read_on_demand_stops_only_its_own_use_case(world: World) -> None:
    (world.root / "usecases" / "beta.yaml").write_text("id: beta\ntitle: no owner\n")
    with pytest.raises(ConfigError):
        load_workspace(world.root)  # a full load refuses the whole workspace

    workspace = load_workspace(world.root, specs_on_demand=True)

    assert workspace.usecase("alpha").id == "alpha"
    with pytest.raises(ConfigError) as raised:
        workspace.usecase("beta")
    assert raised.value.source.endswith("beta.yaml") and "owner" in str(raised.value.problems)
