"""How record values are read as numbers, text, truth values and dates.

The same rules are implemented in ``registry/formengine/js/logic.js``; change both together.

- Blank is ``""``; a missing key and ``None`` read as blank.
- A number is an ``int``/``float`` or a string such as ``"12"``, ``"-3.5"``, ``"1e3"`` (no
  spaces, no thousands separators). Everything is computed in floating point, as in the browser.
- A declared missing-data code (``"UNK"``) reads as blank wherever a number is needed.
- Numbers become text the way JavaScript writes them (``2`` not ``2.0``), so that string
  comparisons and ``concat`` agree between server and browser; ``true``/``false`` become
  ``"1"``/``"0"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

__all__ = [
    "BLANK",
    "days_from_civil",
    "format_number",
    "number",
    "parse_moment",
    "text",
    "truthy",
]

BLANK = ""
_NUMERIC = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_MOMENT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?"
)
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def number(value: Any, missing: Collection[str] = ()) -> float | None:
    """The value as a finite float, or ``None`` for blanks, missing codes and non-numbers."""
    kind = type(value)
    if kind is str:
        if not value or _NUMERIC.fullmatch(value) is None or value in missing:
            return None
        result = float(value)
    elif kind is float or kind is int:
        try:
            result = float(value)
        except OverflowError:
            return None
    elif kind is bool:
        return 1.0 if value else 0.0
    else:
        return None
    # inf - inf and nan - nan are nan: a cheap finiteness test without a function call.
    return result if result - result == 0 else None


def text(value: Any) -> str:
    """The value as text: numbers as JavaScript writes them, checkbox lists comma-joined."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return str(value)
    if kind is float:
        return format_number(value)
    if kind is list or kind is tuple:
        return ",".join(text(item) for item in value)
    return str(value)


def truthy(value: Any) -> bool:
    """Whether a value counts as true in ``if``, ``and``, ``or`` and ``not``.

    Blank is false, a number (or numeric string) is true unless it is zero, any other non-blank
    text is true.
    """
    if value is True or value is False:
        return value
    if value is None or value == "":
        return False
    as_number = number(value)
    if as_number is not None:
        return as_number != 0
    if type(value) is list:
        return bool(value)
    return True


def format_number(value: float) -> str:
    """A float written as JavaScript's ``String(x)`` writes it."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if abs(value) < 9007199254740992.0 and value == int(value):
        return str(int(value))
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # Where the decimal point sits relative to the significant digits: ECMA-262's "n".
    point = len(fraction.lstrip("0")) - len(fraction) if whole == "0" else len(whole)
    if exponent:
        point += int(exponent)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exp = point - 1
    exp_text = f"e+{exp}" if exp >= 0 else f"e-{-exp}"
    if k == 1:
        return sign + digits + exp_text
    return sign + digits[0] + "." + digits[1:] + exp_text


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_moment(value: Any) -> tuple[int, int, int, int] | None:
    """``(year, month, day, seconds since midnight)`` of a stored date, datetime or time.

    Dates are ``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM[:SS]``, times ``HH:MM[:SS]`` (read as
    on 1970-01-01, so two times on the same day subtract). Anything else, including impossible
    dates such as 2021-02-30, is ``None``.
    """
    if type(value) is not str:
        return None
    match = _MOMENT.fullmatch(value)
    if match is not None:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        if not 1 <= month <= 12 or day < 1 or day > _days_in_month(year, month):
            return None
        hour = int(match[4]) if match[4] else 0
        minute = int(match[5]) if match[5] else 0
        second = int(match[6]) if match[6] else 0
    else:
        match = _TIME.fullmatch(value)
        if match is None:
            return None
        year, month, day = 1970, 1, 1
        hour, minute = int(match[1]), int(match[2])
        second = int(match[3]) if match[3] else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return year, month, day, hour * 3600 + minute * 60 + second


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]
