"""What operators and references mean, shared by the tree walker (``evaluator.py``) and the
compiler (``compiler.py``), so that the two cannot drift apart.

- A blank (missing key, ``None``, ``""``) equals ``''``, and arithmetic on a blank is blank.
- ``=`` and ``<>`` compare as numbers when both sides are numbers (so ``[x] = '1'`` and
  ``[x] = 1`` agree), otherwise as text; a declared missing code compares as the text it is.
- ``<``, ``<=``, ``>``, ``>=`` are false when either side is blank or a missing code: an
  unanswered age is neither below nor above 18, and branching on it should show nothing.
  Two numbers compare as numbers, anything else as text (which orders Y-M-D dates correctly).
- Division by zero, and any result that is not a finite number, is blank.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from .coercion import BLANK, number, text
from .context import Context
from .errors import LogicEvaluationError
from .functions import power
from .nodes import FieldRef, SmartVariable
from .printer import to_source
from .smart_variables import smart_value

SAFE_INTEGER = 9007199254740992.0
"""2**53: beyond it floats are not exact integers, so results are not turned into ints."""


def field_value(node: FieldRef, ctx: Context) -> Any:
    """The value a field reference stands for; ``[field(code)]`` is "1" or "0"."""
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


def smart_variable_value(node: SmartVariable, ctx: Context) -> Any:
    """The value of a smart variable the record carries; raises when it carries none."""
    value = smart_value(node.name, ctx.record)
    if value is None:
        raise LogicEvaluationError(
            f"[{node.name}] has no value here: pass it in the record under {node.name!r}"
        )
    return value


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


# Operator -> (left value, right value, missing codes) -> result.
OPERATORS: dict[str, Callable[[Any, Any, Collection[str]], Any]] = {
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
