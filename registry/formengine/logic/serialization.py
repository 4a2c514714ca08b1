"""The tree as JSON, for the browser evaluator (``registry/formengine/js/logic.js``).

Every node is an object with a ``type``:

- ``{"type": "number", "value": 1.5}``, ``{"type": "string", "value": "x"}``,
  ``{"type": "boolean", "value": true}``
- ``{"type": "field", "field": "cb", "code": "2", "event": "baseline", "instance": 3}``
  (``code``, ``event`` and ``instance`` only when present; ``instance`` may be a smart
  variable's name such as ``"previous-instance"``)
- ``{"type": "smart", "name": "record-name"}``
- ``{"type": "unary", "op": "not" | "-", "operand": node}``
- ``{"type": "binary", "op": "=", "left": node, "right": node}``
- ``{"type": "logical", "op": "and" | "or", "operands": [node, node, ...]}``
- ``{"type": "call", "name": "round", "args": [node, ...]}``
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from .functions import FUNCTIONS
from .nodes import (
    ARITHMETIC_OPERATORS,
    COMPARISON_OPERATORS,
    Binary,
    Boolean,
    Call,
    FieldRef,
    Logical,
    Node,
    Number,
    SmartVariable,
    String,
    Unary,
)
from .parser import MAX_DEPTH
from .smart_variables import INSTANCE_VARIABLES, SMART_VARIABLES

__all__ = ["from_json", "to_json"]

_BINARY_OPERATORS = COMPARISON_OPERATORS | ARITHMETIC_OPERATORS


def to_json(node: Node) -> dict[str, Any]:
    """The JSON-ready dict of ``node`` (plain dicts, lists, strings, numbers, booleans)."""
    if isinstance(node, Number):
        return {"type": "number", "value": node.value}
    if isinstance(node, String):
        return {"type": "string", "value": node.value}
    if isinstance(node, Boolean):
        return {"type": "boolean", "value": node.value}
    if isinstance(node, FieldRef):
        data: dict[str, Any] = {"type": "field", "field": node.field}
        if node.code is not None:
            data["code"] = node.code
        if node.event is not None:
            data["event"] = node.event
        if node.instance is not None:
            data["instance"] = node.instance
        return data
    if isinstance(node, SmartVariable):
        return {"type": "smart", "name": node.name}
    if isinstance(node, Unary):
        return {"type": "unary", "op": node.op, "operand": to_json(node.operand)}
    if isinstance(node, Binary):
        return {
            "type": "binary",
            "op": node.op,
            "left": to_json(node.left),
            "right": to_json(node.right),
        }
    if isinstance(node, Logical):
        return {
            "type": "logical",
            "op": node.op,
            "operands": [to_json(operand) for operand in node.operands],
        }
    if isinstance(node, Call):
        return {"type": "call", "name": node.name, "args": [to_json(arg) for arg in node.args]}
    raise TypeError(f"Not a logic node: {node!r}")


def from_json(data: Any) -> Node:
    """The tree that ``to_json`` wrote; raises ``ValueError`` naming what is wrong."""
    return _read(data, 1)


def _read(data: Any, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise ValueError(f"Logic JSON is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(data, dict):
        raise ValueError(f"Logic JSON node must be an object, not {type(data).__name__}")
    kind = data.get("type")
    read = _READERS.get(kind) if isinstance(kind, str) else None
    if read is None:
        raise ValueError(f"Unknown logic node type {kind!r}")
    return read(data, depth)


def _number(data: dict[str, Any], depth: int) -> Number:
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("A number node needs a numeric 'value'")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("A number node's value must be finite")
    return Number(value)


def _string(data: dict[str, Any], depth: int) -> String:
    return String(_text(data, "value"))


def _boolean(data: dict[str, Any], depth: int) -> Boolean:
    value = data.get("value")
    if not isinstance(value, bool):
        raise ValueError("A boolean node needs a true or false 'value'")
    return Boolean(value)


def _smart(data: dict[str, Any], depth: int) -> SmartVariable:
    name = _text(data, "name")
    if name not in SMART_VARIABLES:
        raise ValueError(f"Unsupported smart variable {name!r}")
    return SmartVariable(name)


def _unary(data: dict[str, Any], depth: int) -> Unary:
    op = data.get("op")
    if op not in ("not", "-"):
        raise ValueError(f"Unknown unary operator {op!r}")
    return Unary(op, _read(data.get("operand"), depth + 1))


def _binary(data: dict[str, Any], depth: int) -> Binary:
    op = data.get("op")
    if op not in _BINARY_OPERATORS:
        raise ValueError(f"Unknown binary operator {op!r}")
    return Binary(op, _read(data.get("left"), depth + 1), _read(data.get("right"), depth + 1))


def _logical(data: dict[str, Any], depth: int) -> Logical:
    op = data.get("op")
    operands = data.get("operands")
    if op not in ("and", "or"):
        raise ValueError(f"Unknown logical operator {op!r}")
    if not isinstance(operands, list) or len(operands) < 2:
        raise ValueError("A logical node needs a list of at least two operands")
    return Logical(op, tuple(_read(operand, depth + 1) for operand in operands))


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"A {data.get('type')} node needs a text {key!r}")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    return _text(data, key) if data.get(key) is not None else None


def _field(data: dict[str, Any], depth: int) -> FieldRef:
    instance = data.get("instance")
    if instance is not None and not (
        (isinstance(instance, int) and not isinstance(instance, bool) and instance >= 1)
        or (isinstance(instance, str) and instance in INSTANCE_VARIABLES)
    ):
        raise ValueError(f"Invalid instance {instance!r}")
    return FieldRef(
        _text(data, "field"), _optional_text(data, "code"), _optional_text(data, "event"), instance
    )


def _call(data: dict[str, Any], depth: int) -> Call:
    name = _text(data, "name")
    function = FUNCTIONS.get(name)
    if function is None:
        raise ValueError(f"illegal function {name!r}")
    args = data.get("args")
    if not isinstance(args, list):
        raise ValueError(f"{name}() needs a list of 'args'")
    too_many = function.max_args is not None and len(args) > function.max_args
    if len(args) < function.min_args or too_many:
        raise ValueError(f"Function {name!r} takes {function.arity_text()}, not {len(args)}")
    return Call(name, tuple(_read(arg, depth + 1) for arg in args))


_READERS: Final[Mapping[str, Callable[[dict[str, Any], int], Node]]] = {
    "number": _number,
    "string": _string,
    "boolean": _boolean,
    "field": _field,
    "smart": _smart,
    "unary": _unary,
    "binary": _binary,
    "logical": _logical,
    "call": _call,
}
