"""Trees turned into nested Python closures, for logic that is evaluated many times.

``evaluate`` walks a tree and looks up what to do at every node on every call. A form's
branching logic and calculations are evaluated for every submission validated, so validation
compiles each tree once (``compile_tree``) into closures that hold their operands, operator
and constant operands ready, and then calls ``compiled(context)`` per submission. The meaning
is exactly ``evaluate``'s, which stays the reference (the tests compare the two on the shared
case table and on generated trees); nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .coercion import BLANK, number, text, truthy
from .context import Context, Resolver
from .functions import FUNCTIONS
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
from .semantics import OPERATORS, SAFE_INTEGER, field_value, smart_variable_value

__all__ = ["Compiled", "compile_tree", "evaluate_compiled"]

Compiled = Callable[[Context], Any]
"""A compiled tree: its value for the record (and today, missing codes) of a context."""

_REMEMBERED_ANSWERS = 256
"""Per comparison with a constant: free text compared with one must not fill the memory."""


def compile_tree(node: Node) -> Compiled:
    """``node`` as a function of a context, giving what ``evaluate`` gives for it."""
    inner = _compile(node)
    if _gives_bool(node):
        return inner

    def run(ctx: Context) -> Any:
        result = inner(ctx)
        if type(result) is float and -SAFE_INTEGER < result < SAFE_INTEGER and result.is_integer():
            return int(result)
        return result

    return run


def evaluate_compiled(
    compiled: Compiled,
    record: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    missing_codes: Collection[str] = (),
    resolver: Resolver | None = None,
) -> Any:
    """``evaluate``'s signature for a compiled tree."""
    return compiled(Context(record, today, missing_codes, resolver))


def _gives_bool(node: Node) -> bool:
    """Whether the node's value is always a bool (so never a float to turn into an int)."""
    kind = type(node)
    return (
        kind is Logical
        or kind is Boolean
        or (kind is Unary and node.op == "not")  # type: ignore[union-attr]
        or (kind is Binary and node.op in COMPARISON_OPERATORS)  # type: ignore[union-attr]
    )


def _compile(node: Node) -> Compiled:
    kind = type(node)
    if kind is Number or kind is String or kind is Boolean:
        return _constant(node.value)  # type: ignore[union-attr]
    if kind is FieldRef:
        return _compile_field(node)  # type: ignore[arg-type]
    if kind is SmartVariable:
        smart: SmartVariable = node  # type: ignore[assignment]
        return lambda ctx: smart_variable_value(smart, ctx)
    if kind is Unary:
        return _compile_unary(node)  # type: ignore[arg-type]
    if kind is Binary:
        return _compile_binary(node)  # type: ignore[arg-type]
    if kind is Logical:
        return _compile_logical(node)  # type: ignore[arg-type]
    if kind is Call:
        return _compile_call(node)  # type: ignore[arg-type]
    raise TypeError(f"compile_tree() needs a parsed node (see compile_logic), not {node!r}")


def _constant(value: Any) -> Compiled:
    return lambda ctx: value


def _compile_field(node: FieldRef) -> Compiled:
    if node.qualified:
        return lambda ctx: field_value(node, ctx)
    name = node.field
    code = node.code
    if code is not None:

        def option(ctx: Context) -> str:
            # [field(code)] is "1" when that option is ticked: REDCap's checkbox semantics.
            value = ctx.record.get(name)
            kind = type(value)
            if kind is list or kind is tuple:
                if code in value or any(text(item) == code for item in value):  # type: ignore[operator, union-attr]
                    return "1"
                return "0"
            return "1" if value is not None and text(value) == code else "0"

        return option

    def read(ctx: Context) -> Any:
        value = ctx.record.get(name)
        if value is None:
            return BLANK
        kind = type(value)
        if kind is list or kind is tuple:
            return text(value)
        return value

    return read


def _compile_unary(node: Unary) -> Compiled:
    operand = _compile(node.operand)
    if node.op == "not":
        return lambda ctx: not truthy(operand(ctx))

    def negate(ctx: Context) -> Any:
        as_number = number(operand(ctx), ctx.missing)
        return BLANK if as_number is None else -as_number

    return negate


def _compile_binary(node: Binary) -> Compiled:
    left = _compile(node.left)
    if node.op in ("=", "<>") and type(node.right) in (String, Number, Boolean):
        # The commonest branching logic, [field] = 'code': the constant side's number and
        # text are worked out once instead of at every evaluation.
        equal = _equal_to(node.right.value)  # type: ignore[union-attr]
        if node.op == "=":
            return lambda ctx: equal(left(ctx))
        return lambda ctx: not equal(left(ctx))
    right = _compile(node.right)
    operator = OPERATORS[node.op]
    return lambda ctx: operator(left(ctx), right(ctx), ctx.missing)


def _equal_to(constant: Any) -> Callable[[Any], bool]:
    """``value = constant`` as ``semantics._equal`` decides it, with the constant prepared."""
    constant_type = type(constant)
    constant_number = number(constant)
    constant_text = text(constant)
    # The answers to one comparison are few texts (option codes, mostly), met again in every
    # record: each is read as a number once, not at every evaluation.
    answers: dict[str, bool] = {}

    def decide(value: Any) -> bool:
        if value == constant and type(value) is constant_type:
            return True
        if constant_number is not None:
            value_number = number(value)
            if value_number is not None:
                return value_number == constant_number
        return text(value) == constant_text

    def equal(value: Any) -> bool:
        if type(value) is not str:
            return decide(value)
        answer = answers.get(value)
        if answer is None:
            answer = decide(value)
            if len(answers) < _REMEMBERED_ANSWERS:
                answers[value] = answer
        return answer

    return equal


def _compile_logical(node: Logical) -> Compiled:
    operands = tuple(_compile(operand) for operand in node.operands)
    if node.op == "and":

        def all_true(ctx: Context) -> bool:
            for operand in operands:  # noqa: SIM110
                if not truthy(operand(ctx)):
                    return False
            return True

        return all_true

    def any_true(ctx: Context) -> bool:
        for operand in operands:  # noqa: SIM110
            if truthy(operand(ctx)):
                return True
        return False

    return any_true


def _compile_call(node: Call) -> Compiled:
    args = tuple(_compile(arg) for arg in node.args)
    if node.name == "if":
        condition, when_true, when_false = args
        return lambda ctx: when_true(ctx) if truthy(condition(ctx)) else when_false(ctx)
    implementation = FUNCTIONS[node.name].implementation
    assert implementation is not None
    return lambda ctx: implementation([arg(ctx) for arg in args], ctx)
