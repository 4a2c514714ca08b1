"""The registry's apps import one another in layers: no new import cycle between them.

The graph counts every import, at module level or inside a function (an import inside a
function hides a cycle from Python, not from this test). Two knots remain from before this
test; KNOWN_KNOTS may only shrink: a new cycle, or an app drawn into an old knot, fails.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[2] / "registry"

KNOWN_KNOTS = [
    {"audit", "people"},
    {"api", "curation", "exchange", "jobs", "patients", "quality", "statistics", "submissions"},
]


def app_imports() -> dict[str, set[str]]:
    """app -> the other apps its modules import."""
    apps = {path.name for path in REGISTRY.iterdir() if (path / "__init__.py").exists()}
    graph: dict[str, set[str]] = defaultdict(set)
    for path in REGISTRY.rglob("*.py"):
        parts = path.relative_to(REGISTRY).parts
        if len(parts) < 2 or "migrations" in parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                pieces = name.split(".")
                if pieces[0] == "registry" and len(pieces) > 1 and pieces[1] in apps \
                        and pieces[1] != parts[0]:
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


def test_no_new_import_cycle_between_apps():
    for knot in knots(app_imports()):
        assert any(knot <= known for known in KNOWN_KNOTS), (
            f"a new import cycle between {sorted(knot)}: import in one direction only (move the "
            "shared part down a layer)")


def test_the_known_knots_are_still_knots():
    # So that the list shrinks when a cycle is broken, instead of excusing a future one.
    found = knots(app_imports())
    for known in KNOWN_KNOTS:
        assert known in found, f"{sorted(known)} is no longer one knot: update KNOWN_KNOTS"


def test_a_cycle_is_found():
    assert knots({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
