"""The functions of the logic language: their arity, for the parser, and their meaning.

Every function takes already evaluated arguments, except ``if``, which the evaluator handles
itself so that only the chosen branch is evaluated. Blank in gives blank out; the statistical
functions (min, max, mean, median, sum, stdev) skip blanks and give blank only when nothing is
left. The same rules live in ``registry/formengine/js/logic.js``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .coercion import BLANK, days_from_civil, number, parse_moment, text, truthy
from .context import Context

__all__ = [
    "DATEDIFF_FORMATS",
    "DATEDIFF_UNITS",
    "FUNCTIONS",
    "Function",
    "power",
    "round_decimal",
]

Implementation = Callable[[list[Any], Context], Any]

# Seconds per unit; y = 365.2425 days and M = 30.44 days, as REDCap counts them.
DATEDIFF_UNITS = {"y": 31556952, "M": 2630016, "d": 86400, "h": 3600, "m": 60, "s": 1}
# Stored values are always Y-M-D; the format argument is accepted for REDCap compatibility.
DATEDIFF_FORMATS = frozenset({"ymd", "mdy", "dmy"})
_INTEGER = re.compile(r"[-+]?[0-9]+")
_TRIM = " \t\n\r\0\x0b"  # PHP's trim(), which REDCap users know; str.strip() would take more


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    implementation: Implementation | None  # None: evaluated lazily by the evaluator

    def arity_text(self) -> str:
        if self.max_args == self.min_args:
            count = self.min_args
            return f"{count} argument" + ("" if count == 1 else "s")
        if self.max_args is None:
            return f"at least {self.min_args} argument" + ("" if self.min_args == 1 else "s")
        joiner = "or" if self.max_args == self.min_args + 1 else "to"
        return f"{self.min_args} {joiner} {self.max_args} arguments"


def _finite(value: float | str) -> float | str:
    """Blank for what is not a finite number: overflow is no more an answer than 1/0."""
    if type(value) is float and value - value != 0:
        return BLANK
    return value


def power(base: float, exponent: float) -> float | str:
    """``base ^ exponent``, blank where there is no real answer or it overflows."""
    try:
        return _finite(math.pow(base, exponent))
    except (ValueError, OverflowError, ZeroDivisionError):
        return BLANK


def round_decimal(value: float, places: int, mode: str) -> float | str:
    """Round at ``places`` decimals (negative: tens, hundreds) as a person would on paper.

    ``mode`` is round (half away from zero), up (away from zero) or down (toward zero).
    The shortest decimal text of the number is shifted, not the binary value multiplied, so that
    round(2.675, 2) is 2.68 and roundup(1.1, 1) is 1.1, and the browser gets the same digits.
    """
    if value == 0:
        return 0.0
    magnitude = abs(value)
    mantissa, _, exponent = repr(magnitude).partition("e")
    scaled = float(f"{mantissa}e{(int(exponent) if exponent else 0) + places}")
    if not scaled < 4503599627370496.0:  # 2**52: already whole at this scale (or infinite)
        return value
    whole = math.floor(scaled)
    if mode == "round":
        if scaled - whole >= 0.5:
            whole += 1
    elif mode == "up" and whole != scaled:
        whole += 1
    factor = float(f"1e{abs(places)}")
    result = whole / factor if places >= 0 else whole * factor
    return _finite(result if value > 0 else -result)


def _rounding(mode: str) -> Implementation:
    def implementation(args: list[Any], ctx: Context) -> Any:
        value = number(args[0], ctx.missing)
        places = number(args[1], ctx.missing) if len(args) > 1 else 0.0
        if value is None or places is None or abs(places) > 300:
            return BLANK
        return round_decimal(value, int(places), mode)

    return implementation


def _numeric(operation: Callable[..., float | str]) -> Implementation:
    """A function of numbers only: any blank or non-numeric argument gives blank."""

    def implementation(args: list[Any], ctx: Context) -> Any:
        numbers = []
        for arg in args:
            value = number(arg, ctx.missing)
            if value is None:
                return BLANK
            numbers.append(value)
        return _finite(operation(*numbers))

    return implementation


def _sqrt(value: float) -> float | str:
    return math.sqrt(value) if value >= 0 else BLANK


def _mod(dividend: float, divisor: float) -> float | str:
    return math.fmod(dividend, divisor) if divisor != 0 else BLANK


def _log(value: float, base: float | None = None) -> float | str:
    if value <= 0:
        return BLANK
    if base is None:
        return math.log(value)
    if base <= 0 or base == 1:
        return BLANK
    return math.log(value) / math.log(base)


def _statistic(operation: Callable[[list[float]], float | str]) -> Implementation:
    """A function over many numbers that skips blanks (and anything else not a number)."""

    def implementation(args: list[Any], ctx: Context) -> Any:
        missing = ctx.missing
        numbers = []
        for arg in args:
            value = number(arg, missing)
            if value is not None:
                numbers.append(value)
        return _finite(operation(numbers)) if numbers else BLANK

    return implementation


def _total(numbers: list[float]) -> float:
    # An explicit loop: sum() may compensate rounding (3.12+), the browser does not.
    total = 0.0
    for value in numbers:
        total += value
    return total


def _mean(numbers: list[float]) -> float:
    return _total(numbers) / len(numbers)


def _median(numbers: list[float]) -> float:
    ordered = sorted(numbers)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _stdev(numbers: list[float]) -> float | str:
    """The sample standard deviation (n - 1), as REDCap and spreadsheets compute it."""
    if len(numbers) < 2:
        return BLANK
    mean = _mean(numbers)
    squares = 0.0
    for value in numbers:
        squares += (value - mean) * (value - mean)
    return math.sqrt(squares / (len(numbers) - 1))


def _isnumber(args: list[Any], ctx: Context) -> bool:
    return number(args[0], ctx.missing) is not None


def _isinteger(args: list[Any], ctx: Context) -> bool:
    value = args[0]
    kind = type(value)
    if kind is str:
        return _INTEGER.fullmatch(value) is not None and value not in ctx.missing
    if kind is int:
        return True
    if kind is float:
        return value - value == 0 and value == math.floor(value)  # type: ignore[no-any-return]
    return False


def _text_test(test: Callable[[str, str], bool]) -> Implementation:
    """contains/starts_with/ends_with: case-insensitive, as in REDCap."""

    def implementation(args: list[Any], ctx: Context) -> Any:
        return test(text(args[0]).lower(), text(args[1]).lower())

    return implementation


def _left(args: list[Any], ctx: Context) -> Any:
    count = number(args[1])
    if count is None:
        return BLANK
    return text(args[0])[: max(0, int(count))]


def _right(args: list[Any], ctx: Context) -> Any:
    count = number(args[1])
    if count is None:
        return BLANK
    value = text(args[0])
    return value[max(0, len(value) - max(0, int(count))) :]


def _isblankormissingcode(args: list[Any], ctx: Context) -> bool:
    value = text(args[0])
    return value == "" or value in ctx.missing


def _moment(value: Any, ctx: Context) -> tuple[int, int, int, int] | None:
    if value == "today":
        today = ctx.today()
        return today.year, today.month, today.day, 0
    return parse_moment(value)


def _datediff(args: list[Any], ctx: Context) -> Any:
    first = _moment(args[0], ctx)
    second = _moment(args[1], ctx)
    unit = DATEDIFF_UNITS.get(text(args[2]))
    if first is None or second is None or unit is None:
        return BLANK
    signed = False
    if len(args) == 5:
        signed = _is_true(args[4])
    elif len(args) == 4 and text(args[3]) not in DATEDIFF_FORMATS:
        signed = _is_true(args[3])  # datediff(a, b, unit, signed): REDCap allows either
    seconds = (days_from_civil(*second[:3]) * 86400 + second[3]) - (
        days_from_civil(*first[:3]) * 86400 + first[3]
    )
    difference = seconds / unit
    return difference if signed else abs(difference)


def _is_true(value: Any) -> bool:
    return truthy(value) and text(value).lower() != "false"


def _date_part(index: int) -> Implementation:
    def implementation(args: list[Any], ctx: Context) -> Any:
        moment = _moment(args[0], ctx)
        return BLANK if moment is None else float(moment[index])

    return implementation


def _text_function(operation: Callable[[str], Any]) -> Implementation:
    def implementation(args: list[Any], ctx: Context) -> Any:
        return operation(text(args[0]))

    return implementation


def _concat(args: list[Any], ctx: Context) -> str:
    return "".join(text(arg) for arg in args)


def _table() -> dict[str, Function]:
    entries: list[tuple[str, int, int | None, Implementation | None]] = [
        ("if", 3, 3, None),
        ("datediff", 3, 5, _datediff),
        ("round", 1, 2, _rounding("round")),
        ("roundup", 1, 2, _rounding("up")),
        ("rounddown", 1, 2, _rounding("down")),
        ("sqrt", 1, 1, _numeric(_sqrt)),
        ("abs", 1, 1, _numeric(abs)),
        ("pow", 2, 2, _numeric(power)),
        ("mod", 2, 2, _numeric(_mod)),
        ("log", 1, 2, _numeric(_log)),
        ("min", 1, None, _statistic(min)),
        ("max", 1, None, _statistic(max)),
        ("mean", 1, None, _statistic(_mean)),
        ("median", 1, None, _statistic(_median)),
        ("sum", 1, None, _statistic(_total)),
        ("stdev", 1, None, _statistic(_stdev)),
        ("isnumber", 1, 1, _isnumber),
        ("isinteger", 1, 1, _isinteger),
        ("contains", 2, 2, _text_test(lambda haystack, needle: needle in haystack)),
        ("starts_with", 2, 2, _text_test(str.startswith)),
        ("ends_with", 2, 2, _text_test(str.endswith)),
        ("left", 2, 2, _left),
        ("right", 2, 2, _right),
        ("length", 1, 1, _text_function(lambda value: float(len(value)))),
        ("concat", 1, None, _concat),
        ("upper", 1, 1, _text_function(str.upper)),
        ("lower", 1, 1, _text_function(str.lower)),
        ("trim", 1, 1, _text_function(lambda value: value.strip(_TRIM))),
        ("isblankormissingcode", 1, 1, _isblankormissingcode),
        ("year", 1, 1, _date_part(0)),
        ("month", 1, 1, _date_part(1)),
        ("day", 1, 1, _date_part(2)),
    ]
    return {name: Function(name, low, high, impl) for name, low, high, impl in entries}


FUNCTIONS: dict[str, Function] = _table()
