"""Every package the code imports is declared in pyproject.toml, in the right place.

The imports are read from the source with ``ast`` (those inside functions included, as
they run when the function does); ``if TYPE_CHECKING:`` blocks are left out, since they
never run (mypy, in ``make lint``, needs their stubs from the dev group). An import name
is mapped to the distributions that install it by the metadata of this environment,
which ``make`` syncs with every extra.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gates.extras import EXTRAS, extra_providing

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"gates", "flows"}


@dataclass(frozen=True)
class Import:
    module: str  # top-level name
    where: str  # file:line


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_in(tree: ast.AST, path: str) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:  # only the ``else`` of a TYPE_CHECKING test runs
                visit(child)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.partition(".")[0]
            if top not in sys.stdlib_module_names and top not in FIRST_PARTY | {"__future__"}:
                found.append(Import(top, f"{path}:{node.lineno}"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@cache
def runtime_imports() -> tuple[Import, ...]:
    """Third-party imports that run, anywhere in the installed packages (gates, flows)."""
    found: list[Import] = []
    for package in sorted(FIRST_PARTY):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            found.extend(_imports_in(ast.parse(path.read_text("utf-8"), relative), relative))
    return tuple(found)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def _parse(requirement: str) -> tuple[str, list[str]]:
    match = _REQUIREMENT.match(requirement)
    assert match, f"pyproject.toml: unreadable requirement {requirement!r}"
    extras = [e.strip() for e in (match.group(2) or "").split(",") if e.strip()]
    return normalise(match.group(1)), extras


@cache
def declared() -> tuple[frozenset[str], dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(base, each extra with the extras it names resolved, each extra's own distributions)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    base = frozenset(_parse(r)[0] for r in project["dependencies"])
    raw: dict[str, list[tuple[str, list[str]]]] = {
        name: [_parse(r) for r in requirements]
        for name, requirements in project["optional-dependencies"].items()
    }
    own = {
        name: frozenset(dist for dist, _ in reqs if dist != "stagegate")
        for name, reqs in raw.items()
    }

    def resolved(name: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        assert name not in seen, f"pyproject.toml: extra {name!r} includes itself"
        out = set(own[name])
        for dist, extras in raw[name]:
            if dist == "stagegate":
                for extra in extras:
                    out |= resolved(extra, seen | {name})
        return frozenset(out)

    return base, {name: resolved(name) for name in raw}, own


@cache
def _installed() -> dict[str, frozenset[str]]:
    """Each importable top-level name here and the distributions that install it."""
    return {
        module: frozenset(normalise(d) for d in dists)
        for module, dists in importlib.metadata.packages_distributions().items()
    }


def distributions_of(module: str) -> frozenset[str]:
    return _installed().get(module, frozenset())


def modules_of(distribution: str) -> frozenset[str]:
    return frozenset(m for m, dists in _installed().items() if distribution in dists)


def test_the_scan_sees_lazy_imports_and_skips_type_checking_blocks() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import yaml\n"
        "if TYPE_CHECKING:\n    import boto3\nelse:\n    import rich\n"
        "def f():\n    import pandas.io\n    from gates import x\n    from . import y\n"
    )
    assert [i.module for i in _imports_in(ast.parse(source), "m.py")] == [
        "yaml",
        "rich",
        "pandas",
    ]


def test_every_package_the_code_imports_is_declared() -> None:
    base, extras, _ = declared()
    everywhere = base.union(*extras.values())
    undeclared = defaultdict(list)
    for imp in runtime_imports():
        dists = distributions_of(imp.module)
        if not dists & everywhere:
            undeclared[f"{imp.module} ({', '.join(sorted(dists)) or 'not installed here'})"].append(
                imp.where
            )
    assert not undeclared, "imported but declared nowhere in pyproject.toml: " + "; ".join(
        f"{name} at {', '.join(places)}" for name, places in sorted(undeclared.items())
    )


def test_an_import_outside_the_base_install_belongs_to_the_extra_that_names_it() -> None:
    """A command that hits a missing module can then say which extra to install."""
    base, extras, _ = declared()
    wrong = []
    for imp in runtime_imports():
        dists = distributions_of(imp.module)
        if dists & base:
            continue
        extra = extra_providing(imp.module)
        if extra is None or not dists & extras.get(extra.name, frozenset()):
            named = extra.name if extra else "no extra in gates/extras.py"
            wrong.append(f"{imp.where}: {imp.module} ({named})")
    assert not wrong, "not in the base install, and not declared by its extra: " + "; ".join(wrong)


def test_the_base_install_declares_only_what_the_code_imports() -> None:
    base, _, _ = declared()
    imported = {d for imp in runtime_imports() for d in distributions_of(imp.module)}
    assert sorted(base - imported) == []


def test_each_extra_in_the_code_matches_pyproject() -> None:
    """gates/extras.py checks for what ``pip install 'stagegate[NAME]'`` really brings."""
    _, extras, own = declared()
    assert set(EXTRAS) == set(extras)
    for name, extra in EXTRAS.items():
        for module in extra.modules:
            assert distributions_of(module) & extras[name], f"[{name}] installs no {module}"
        for dist in extra.distributions:
            assert normalise(dist) in extras[name], f"[{name}] does not declare {dist}"
        checked = set(extra.modules)
        for dist in own[name]:
            assert dist in {normalise(d) for d in extra.distributions} or (
                modules_of(dist) & checked
            ), f"[{name}] declares {dist}, which gates/extras.py does not check for"
