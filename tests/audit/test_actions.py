"""Audit actions are registered in one place (registry/audit/actions.py) with their meaning."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from registry.audit.actions import Action, UnregisteredAction
from registry.audit.models import AuditEvent
from registry.audit.services import record_event

ROOT = Path(__file__).resolve().parents[2]
# Functions that take an action as one of their arguments, and names that hold one.
_TAKES_AN_ACTION = {
    "record_event",
    "do_record_view",
    "do_record_list_view",
    "_audit",
    "_remove_devices",
}
_HOLDS_AN_ACTION = {"action", "event", "view_action"}
_ACTION_SHAPE = re.compile(r"[a-z]+(?:_[a-z]+)*(?:\.[a-z]+(?:_[a-z]+)*)?")


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _strings(node: ast.AST) -> list[str]:
    """String constants an expression may evaluate to (directly or through `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def actions_written_in_source() -> dict[str, str]:
    """Every literal action in registry/, with where it is written."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "registry").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            candidates: list[ast.AST] = []
            if isinstance(node, ast.Call) and _name(node.func) in _TAKES_AN_ACTION:
                candidates = list(node.args[:3])
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(_name(t) in _HOLDS_AN_ACTION for t in targets) and node.value:
                    candidates = [node.value]
            for candidate in candidates:
                for text in _strings(candidate):
                    if _ACTION_SHAPE.fullmatch(text):
                        found.setdefault(text, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_action_written_in_the_code_is_registered():
    written = actions_written_in_source()
    assert len(written) > 30, "the scan should find the registry's actions"
    unregistered = {
        action: where for action, where in written.items() if action not in Action.values
    }
    assert unregistered == {}


def test_every_registered_action_says_what_it_means():
    for action in Action:
        assert action.label and action.label != action.name.replace("_", " ").title()


def test_docs_describe_exactly_the_registered_actions():
    text = (ROOT / "docs" / "audit.md").read_text()
    table = text.split("## Actions", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for line in table.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([a-z_.]+)`", line.split("|")[1])
    }
    assert documented == set(Action.values)


@pytest.mark.django_db
def test_an_unregistered_action_is_refused_and_nothing_is_written():
    with pytest.raises(UnregisteredAction, match=r"submission\.delete"):
        record_event(None, "submission.delete")
    assert not AuditEvent.objects.exists()
    assert record_event(None, Action.LOGIN_FAILED).action == "login_failed"
