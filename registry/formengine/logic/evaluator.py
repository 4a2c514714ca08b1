"""Evaluating a tree against one record, with REDCap's treatment of blanks.

What each operator and reference means is in ``semantics.py``, shared with the compiler.

- ``and``/``or`` stop at the first operand that decides, and ``if`` evaluates only the branch it
  picks, so a rule such as ``[n] <> 0 and [x] / [n] > 2`` is safe.

Whole-number results come back as ``int`` (``2``, not ``2.0``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .coercion import BLANK, number, truthy
from .context import Context, Resolver
from .functions import FUNCTIONS
from .nodes import (
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
from .semantics import OPERATORS, SAFE_INTEGER, field_value, smart_variable_value

__all__ = ["evaluate"]


def evaluate(
    node: Node,
    record: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    missing_codes: Collection[str] = (),
    resolver: Resolver | None = None,
) -> Any:
    """The value of ``node`` for ``record``: a bool, a number, text, or ``""`` for blank.

    ``record`` maps field names to stored values (checkbox fields to lists of codes) and may
    carry smart variables under their own names (``"record-name"``, ``"current-instance"``).
    ``today`` stands in for ``'today'`` in dates (default: the local date). Values equal to one
    of ``missing_codes`` count as blank in arithmetic and ordering. ``resolver(field, event,
    instance)`` looks up references to other events and instances; without one they raise
    ``LogicEvaluationError``, as does a smart variable the record does not carry.
    """
    evaluator = _EVALUATORS.get(type(node))
    if evaluator is None:
        raise TypeError(f"evaluate() needs a parsed node (see compile_logic), not {node!r}")
    result = evaluator(node, Context(record, today, missing_codes, resolver))
    if type(result) is float and -SAFE_INTEGER < result < SAFE_INTEGER and result.is_integer():
        return int(result)
    return result


def _literal(node: Any, ctx: Context) -> Any:
    return node.value


def _unary(node: Unary, ctx: Context) -> Any:
    operand = node.operand
    value = _EVALUATORS[type(operand)](operand, ctx)
    if node.op == "not":
        return not truthy(value)
    as_number = number(value, ctx.missing)
    return BLANK if as_number is None else -as_number


def _logical(node: Logical, ctx: Context) -> bool:
    evaluators = _EVALUATORS
    # Plain loops rather than all()/any(): no generator object per evaluation.
    if node.op == "and":
        for operand in node.operands:  # noqa: SIM110
            if not truthy(evaluators[type(operand)](operand, ctx)):
                return False
        return True
    for operand in node.operands:  # noqa: SIM110
        if truthy(evaluators[type(operand)](operand, ctx)):
            return True
    return False


def _binary(node: Binary, ctx: Context) -> Any:
    left = node.left
    right = node.right
    return OPERATORS[node.op](
        _EVALUATORS[type(left)](left, ctx), _EVALUATORS[type(right)](right, ctx), ctx.missing
    )


def _call(node: Call, ctx: Context) -> Any:
    args = node.args
    evaluators = _EVALUATORS
    if node.name == "if":
        condition, when_true, when_false = args
        chosen = when_true if truthy(evaluators[type(condition)](condition, ctx)) else when_false
        return evaluators[type(chosen)](chosen, ctx)
    implementation = FUNCTIONS[node.name].implementation
    assert implementation is not None
    return implementation([evaluators[type(arg)](arg, ctx) for arg in args], ctx)


_EVALUATORS: dict[type, Callable[[Any, Context], Any]] = {
    Number: _literal,
    String: _literal,
    Boolean: _literal,
    FieldRef: field_value,
    SmartVariable: smart_variable_value,
    Unary: _unary,
    Binary: _binary,
    Logical: _logical,
    Call: _call,
}
