"""Evaluating a tree against one record, with REDCap's treatment of blanks.

- A blank (missing key, ``None``, ``""``) equals ``''``, and arithmetic on a blank is blank.
- ``=`` and ``<>`` compare as numbers when both sides are numbers (so ``[x] = '1'`` and
  ``[x] = 1`` agree), otherwise as text; a declared missing code compares as the text it is.
- ``<``, ``<=``, ``>``, ``>=`` are false when either side is blank or a missing code: an
  unanswered age is neither below nor above 18, and branching on it should show nothing.
  Two numbers compare as numbers, anything else as text (which orders Y-M-D dates correctly).
- Division by zero, and any result that is not a finite number, is blank.
- ``and``/``or`` stop at the first operand that decides, and ``if`` evaluates only the branch it
  picks, so a rule such as ``[n] <> 0 and [x] / [n] > 2`` is safe.

Whole-number results come back as ``int`` (``2``, not ``2.0``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .coercion import BLANK, number, text, truthy
from .context import Context, Resolver
from .errors import LogicEvaluationError
from .functions import FUNCTIONS, power
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
from .printer import to_source
from .smart_variables import smart_value

__all__ = ["evaluate"]

_SAFE_INTEGER = 9007199254740992.0  # 2**53: beyond it floats are not exact integers


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
    if type(result) is float and -_SAFE_INTEGER < result < _SAFE_INTEGER and result.is_integer():
        return int(result)
    return result


def _literal(node: Any, ctx: Context) -> Any:
    return node.value


def _field(node: FieldRef, ctx: Context) -> Any:
    if node.event is None and node.instance is None:
        value = ctx.record.get(node.field)
    else:
        value = _qualified(node, ctx)
    code = node.code
    kind = type(value)
    if code is None:
        if value is None:
            return BLANK
        if kind is list or kind is tuple:
            return text(value)
        return value
    # [field(code)] is "1" when that option is ticked: REDCap's checkbox semantics.
    if kind is list or kind is tuple:
        assert value is not None
        if code in value or any(text(item) == code for item in value):
            return "1"
        return "0"
    return "1" if value is not None and text(value) == code else "0"


def _qualified(node: FieldRef, ctx: Context) -> Any:
    if ctx.resolver is None:
        raise LogicEvaluationError(
            f"{to_source(node)} refers to another event or instance; evaluating it needs a resolver"
        )
    instance = node.instance
    if isinstance(instance, str):
        known = smart_value(instance, ctx.record)
        if known == "":
            return None  # no such instance, e.g. the one before the first
        if known is not None:
            as_number = number(known)
            if as_number is not None:
                instance = int(as_number)
    return ctx.resolver(node.field, node.event, instance)


def _smart(node: SmartVariable, ctx: Context) -> Any:
    value = smart_value(node.name, ctx.record)
    if value is None:
        raise LogicEvaluationError(
            f"[{node.name}] has no value here: pass it in the record under {node.name!r}"
        )
    return value


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
    return _OPERATORS[node.op](
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


def _equal(left: Any, right: Any, missing: Collection[str]) -> bool:
    if left == right and type(left) is type(right):
        return True
    left_number = number(left)
    if left_number is not None:
        right_number = number(right)
        if right_number is not None:
            return left_number == right_number
    return text(left) == text(right)


def _not_equal(left: Any, right: Any, missing: Collection[str]) -> bool:
    return not _equal(left, right, missing)


def _ordering(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any, Collection[str]], bool]:
    def compare(left: Any, right: Any, missing: Collection[str]) -> bool:
        left_number = number(left, missing)
        right_number = number(right, missing)
        if left_number is not None and right_number is not None:
            return test(left_number, right_number)
        left_text = text(left)
        right_text = text(right)
        if not left_text or not right_text or left_text in missing or right_text in missing:
            return False
        return test(left_text, right_text)

    return compare


def _arithmetic(
    operation: Callable[[float, float], float],
) -> Callable[[Any, Any, Collection[str]], Any]:
    def compute(left: Any, right: Any, missing: Collection[str]) -> Any:
        left_number = number(left, missing)
        if left_number is None:
            return BLANK
        right_number = number(right, missing)
        if right_number is None:
            return BLANK
        result = operation(left_number, right_number)
        return result if result - result == 0 else BLANK  # not NaN, not infinite

    return compute


_NAN = float("nan")


def _divide(left: float, right: float) -> float:
    return left / right if right != 0 else _NAN


def _power(left: float, right: float) -> float:
    result = power(left, right)
    return _NAN if isinstance(result, str) else result


_OPERATORS: dict[str, Callable[[Any, Any, Collection[str]], Any]] = {
    "=": _equal,
    "<>": _not_equal,
    "<": _ordering(lambda a, b: a < b),
    "<=": _ordering(lambda a, b: a <= b),
    ">": _ordering(lambda a, b: a > b),
    ">=": _ordering(lambda a, b: a >= b),
    "+": _arithmetic(lambda a, b: a + b),
    "-": _arithmetic(lambda a, b: a - b),
    "*": _arithmetic(lambda a, b: a * b),
    "/": _arithmetic(_divide),
    "^": _arithmetic(_power),
}

_EVALUATORS: dict[type, Callable[[Any, Context], Any]] = {
    Number: _literal,
    String: _literal,
    Boolean: _literal,
    FieldRef: _field,
    SmartVariable: _smart,
    Unary: _unary,
    Binary: _binary,
    Logical: _logical,
    Call: _call,
}
