"""Writing a tree back as canonical logic source.

Canonical means: operators spelt ``=``, ``<>``, ``and``, ``or``, ``not``; single quotes unless
the text holds one; parentheses only where precedence needs them, except that powers are always
written ``(x)^(y)`` as REDCap requires. Parsing the result gives an equal tree.
"""

from __future__ import annotations

from .nodes import (
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
from .parser import (
    ADDITIVE,
    AND,
    ATOM,
    COMPARISON,
    MULTIPLICATIVE,
    NEGATION,
    NOT,
    OR,
    POWER,
)

__all__ = ["to_source"]

_POWERS = {
    "or": OR,
    "and": AND,
    **dict.fromkeys(COMPARISON_OPERATORS, COMPARISON),
    "+": ADDITIVE,
    "-": ADDITIVE,
    "*": MULTIPLICATIVE,
    "/": MULTIPLICATIVE,
    "^": POWER,
}


def to_source(node: Node) -> str:
    """Canonical source for ``node``.

    Raises ``ValueError`` for what the language cannot write: text holding both kinds of quote
    (the language has no escapes) or a non-finite number.
    """
    return _write(node)


def _power(node: Node) -> int:
    if isinstance(node, Binary | Logical):
        return _POWERS[node.op]
    if isinstance(node, Unary):
        return NOT if node.op == "not" else NEGATION
    return ATOM


def _wrap(node: Node, minimum: int) -> str:
    written = _write(node)
    return f"({written})" if _power(node) < minimum else written


def _write(node: Node) -> str:
    if isinstance(node, FieldRef):
        return _reference(node)
    if isinstance(node, String):
        return _string(node.value)
    if isinstance(node, Number):
        return _number(node.value)
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, SmartVariable):
        return f"[{node.name}]"
    if isinstance(node, Binary):
        power = _POWERS[node.op]
        if node.op == "^":
            return f"({_write(node.left)})^({_write(node.right)})"
        # Left-associative; comparisons do not chain, so neither side may be one.
        left_minimum = power + 1 if power == COMPARISON else power
        return f"{_wrap(node.left, left_minimum)} {node.op} {_wrap(node.right, power + 1)}"
    if isinstance(node, Logical):
        joiner = f" {node.op} "
        return joiner.join(_wrap(operand, _POWERS[node.op] + 1) for operand in node.operands)
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not {_wrap(node.operand, NOT)}"
        return f"-{_wrap(node.operand, NEGATION)}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_write(arg) for arg in node.args)})"
    raise TypeError(f"Not a logic node: {node!r}")


def _reference(node: FieldRef) -> str:
    written = f"[{node.field}]" if node.code is None else f"[{node.field}({node.code})]"
    if node.event is not None:
        written = f"[{node.event}]{written}"
    if node.instance is not None:
        written = f"{written}[{node.instance}]"
    return written


def _string(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError(f"Text holding both ' and \" cannot be written in logic: {value!r}")


def _number(value: float) -> str:
    if isinstance(value, bool) or value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"Not a number that logic can write: {value!r}")
    if value < 0:
        # A negative literal only comes from hand-built trees; parsing gives Unary("-", ...).
        return f"({value!r})"
    return repr(value)
