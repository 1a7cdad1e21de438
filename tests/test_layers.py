"""Imports point down: each module of the engine imports only its own layer and the layers
below it, no two modules import each other through any chain, and nothing imports the
command line but the scripts at the top. The layers, lowest first (ARCHITECTURE.md):

    domain ← base ← store ← temporal ← service ← http, auditing, materials, printing ← api,
    web ← assembly ← cli

The command line is at the top: its ``up`` and ``simulate`` run the whole stack.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("approval", "workflows", "activities")
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("domain", ("approval.domain", "approval.payload_dictionary", "approval.validation")),
    (
        "base",
        (
            "approval.config",
            "approval.logs",
            "approval.calendar_source",
            "approval.contracts",
            "approval.search_attributes",
            "approval.metrics",
            "approval.tracing",
        ),
    ),
    ("store", ("approval.store", "approval.demo_users")),
    ("temporal", ("approval.routing", "approval.departments", "activities", "workflows")),
    ("service", ("approval.service",)),
    ("readers", ("approval.http", "approval.auditing", "approval.materials", "approval.printing")),
    ("entry", ("approval.api", "approval.web")),
    ("assembly", ("approval.runtime", "approval.environments")),
    ("command line", ("approval.cli",)),
)
"""Each layer and the modules (or packages) in it."""
PEERS_APART = {
    ("approval.web", "approval.api"),
    ("approval.http", "approval.auditing"),
    ("approval.auditing", "approval.http"),
}
"""Modules of one layer that must not import one another: the console does not import the
API (the API's app mounts the console, one way only); what the HTTP entry points share and
the auditors' readings stand apart."""


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and path.name != "__init__.py":
                continue
            if path == ROOT / "approval" / "__init__.py":
                continue  # the namespace of everything; it imports nothing
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


MODULES = dict(_modules())


def _imports(name: str, path: Path) -> set[str]:
    """Every engine module ``name`` imports, at the top or inside a function."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1]])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    engine = {module for m in found if (module := _engine_module(m)) is not None}
    return engine - {name}


def _engine_module(imported: str) -> str | None:
    """The engine module an import names (its longest known prefix), or None."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> tuple[int, str]:
    """The layer of a module and the member of LAYERS it belongs to."""
    for rank, (_, members) in enumerate(LAYERS):
        for member in members:
            if name == member or name.startswith(member + "."):
                return rank, member
    raise AssertionError(f"{name} is in no layer: add it to LAYERS in tests/test_layers.py")


def test_every_module_has_a_layer() -> None:
    """A new module must be placed in a layer before it can be imported anywhere."""
    assert len(MODULES) > 100
    for name in MODULES:
        _layer(name)


def wrong_import(name: str, imported: str) -> str | None:
    """Why ``name`` may not import ``imported``, or None when it may."""
    rank, member = _layer(name)
    their_rank, their_member = _layer(imported)
    if their_rank > rank:
        return f"{name} ({LAYERS[rank][0]}) imports {imported} ({LAYERS[their_rank][0]})"
    if (member, their_member) in PEERS_APART:
        return f"{name} imports {imported}, a peer it stays apart from"
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    """The module imports nothing of a layer above its own (so nothing but the command line
    imports the command line), nor a peer it must stay apart from."""
    wrong = [w for imported in sorted(GRAPH[name]) if (w := wrong_import(name, imported))]
    assert wrong == []


def test_no_import_circle() -> None:
    """No chain of imports leads from a module back to itself (strongly connected
    components of the import graph are single modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
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
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert circles == []


def test_the_check_catches_what_it_forbids() -> None:
    """The rule fails the domain importing the store, the store importing a workflow, the
    service importing the API, the console importing the API, anything importing the command
    line; and allows the API importing the service."""
    forbidden = [
        ("approval.domain.case", "approval.store.audit_log"),
        ("approval.store.recording", "workflows.case_workflow"),
        ("approval.service", "approval.api.app"),
        ("approval.web.pages.case", "approval.api.app"),
        ("approval.runtime", "approval.cli.app"),
    ]
    for name, imported in forbidden:
        assert wrong_import(name, imported), (name, imported)
    assert wrong_import("approval.api.routes.cases", "approval.service") is None
