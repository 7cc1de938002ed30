"""The layers of docs/architecture.md hold in the code: one way, no cycles, as drawn."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    layers: list[str] = contract["layers"]
    return layers


def _cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    nodes = set(edges) | {t for targets in edges.values() for t in targets}
    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[0] if parts[0] == "flows" else ".".join(parts[:2])


def _import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("gates", "flows", include_external_packages=False)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def test_the_import_contract_is_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_no_package_imports_another_in_a_cycle() -> None:
    by_package: dict[str, set[str]] = defaultdict(set)
    for module, targets in _import_graph().items():
        source = _package(module)
        if source == "gates":  # the package's lazy facade (gates/__init__.py)
            continue
        by_package[source] |= {_package(t) for t in targets} - {source}
    assert _cycles(by_package) == []


def test_no_module_imports_another_in_a_cycle() -> None:
    assert _cycles(_import_graph()) == []


def test_every_package_has_a_layer() -> None:
    layered = {name for layer in _contract_layers() for name in re.split(r"[|:]", layer)}
    layered = {name.strip() for name in layered}
    packages = {_package(m) for m in _import_graph()} - {"gates"}
    assert packages - layered == set(), "place new packages in the import contract"


def test_the_architecture_page_draws_the_contract_layers_in_order() -> None:
    """docs/architecture.md lists the layers top-down exactly as the contract does."""
    page = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    drawn = re.findall(r"^\| (\d+) \| ([^|]+) \|", page, flags=re.MULTILINE)
    contract = [sorted(n.strip() for n in re.split(r"[|:]", layer)) for layer in _contract_layers()]
    as_drawn = [sorted(n.strip().strip("`") for n in names.split(",")) for _, names in drawn]
    assert as_drawn == contract
