"""The registry's apps import one another in layers: no new import cycle between them.

The graph counts every import, at module level or inside a function (an import inside a
function hides a cycle from Python, not from this test). Only an import under
`if TYPE_CHECKING:` is left out: it names a type for the checker and never runs. The apps
form the layers of docs/architecture.md: each imports only apps of the layers below its own.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[2] / "registry"

# Top first. An app imports only apps of lower layers, never one of its own layer: a new app
# takes its place here (and in docs/architecture.md) the day it is added.
LAYERS = [
    {"api", "web", "demo", "settings"},
    {"curation"},
    {"quality"},
    {"statistics", "exchange"},
    {"jobs", "submissions"},
    {"patients", "crfs", "rest"},
    {"people"},
    {"audit", "formengine"},
]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree but those under `if TYPE_CHECKING:` (its `else:` runs)."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def app_imports() -> dict[str, set[str]]:
    """app -> the other apps its modules import."""
    apps = {path.name for path in REGISTRY.iterdir() if (path / "__init__.py").exists()}
    graph: dict[str, set[str]] = defaultdict(set)
    for path in REGISTRY.rglob("*.py"):
        parts = path.relative_to(REGISTRY).parts
        if len(parts) < 2 or "migrations" in parts:
            continue
        for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                pieces = name.split(".")
                if (
                    pieces[0] == "registry"
                    and len(pieces) > 1
                    and pieces[1] in apps
                    and pieces[1] != parts[0]
                ):
                    graph[parts[0]].add(pieces[1])
    return graph


def knots(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one app (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(app: str) -> None:
        index[app] = low[app] = len(index)
        stack.append(app)
        for other in sorted(graph.get(app, ())):
            if other not in index:
                visit(other)
                low[app] = min(low[app], low[other])
            elif other in stack:
                low[app] = min(low[app], index[other])
        if low[app] == index[app]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == app:
                    break
            if len(group) > 1:
                found.append(group)

    for app in sorted(graph):
        if app not in index:
            visit(app)
    return found


def layer_of(app: str) -> int:
    """0 for the bottom layer."""
    for depth, layer in enumerate(reversed(LAYERS)):
        if app in layer:
            return depth
    raise AssertionError(f"{app} is in no layer: add it to LAYERS and docs/architecture.md")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{app} imports {other}"
        for app, others in sorted(graph.items())
        for other in sorted(others)
        if layer_of(other) >= layer_of(app)
    ]


def test_every_app_has_a_layer():
    apps = {path.name for path in REGISTRY.iterdir() if (path / "__init__.py").exists()}
    assert apps == set().union(*LAYERS)


def test_apps_import_only_the_layers_below_their_own():
    assert upward_imports(app_imports()) == [], (
        "import downwards only (move the shared part down a layer, or register it from above)"
    )


def test_the_layers_are_those_docs_architecture_draws():
    text = (REGISTRY.parent / "docs" / "architecture.md").read_text()
    table = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    drawn = [
        set(re.findall(r"`(\w+)`", row.split("|")[2]))
        for row in table.splitlines()
        if re.match(r"\| \d", row)
    ]
    assert drawn == LAYERS


def test_no_import_cycle_between_apps():
    assert knots(app_imports()) == []


def test_an_import_within_a_layer_or_upwards_is_found():
    assert upward_imports({"jobs": {"quality", "audit"}, "statistics": {"exchange"}}) == [
        "jobs imports quality",
        "statistics imports exchange",
    ]


def test_an_import_under_type_checking_is_left_out():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    import registry.quality\nelse:\n    import registry.jobs\n"
    )
    imported = {
        alias.name
        for node in _runtime_nodes(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported == {"registry.jobs"}


def test_a_cycle_is_found():
    assert knots({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
