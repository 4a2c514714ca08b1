"""Text validation types and the parsing of single typed values.

One table says what each REDCap validation name means to the registry (its family, decimals,
formats), and a handful of parsers turn what a person or a script typed into the stored
representation. The schema uses them to check min/max; validation uses them for values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "IDENTIFIER_VALIDATIONS",
    "VALIDATIONS",
    "Validation",
    "format_datetime",
    "format_number",
    "parse_date",
    "parse_datetime",
    "parse_integer",
    "parse_number",
    "parse_time",
    "validation_for",
]


@dataclass(frozen=True, slots=True)
class Validation:
    """What a text validation name means: how values are parsed, stored and described."""

    name: str
    family: str  # integer, number, date, datetime, time, alpha, identifier
    decimals: int | None = None  # number_Ndp: at most N decimal places
    comma: bool = False  # *_comma_decimal: "1,5" is one and a half
    seconds: bool = False  # datetime_seconds_*, time_hh_mm_ss
    time_format: str = ""  # time family: "hh:mm", "hh:mm:ss", "mm:ss"
    description: str = ""  # finishes "X must be ..."

    @property
    def has_bounds(self) -> bool:
        return self.family in {"integer", "number", "date", "datetime", "time"}


def _table() -> dict[str, Validation]:
    table: dict[str, Validation] = {
        "integer": Validation("integer", "integer", description="a whole number"),
        "alpha_only": Validation("alpha_only", "alpha", description="letters only"),
        "time": Validation("time", "time", time_format="hh:mm", description="a time as HH:MM"),
        "time_hh_mm_ss": Validation(
            "time_hh_mm_ss",
            "time",
            seconds=True,
            time_format="hh:mm:ss",
            description="a time as HH:MM:SS",
        ),
        "time_mm_ss": Validation(
            "time_mm_ss", "time", time_format="mm:ss", description="a duration as MM:SS"
        ),
    }
    for comma in (False, True):
        suffix = "_comma_decimal" if comma else ""
        mark = "a comma" if comma else "a point"
        table[f"number{suffix}"] = Validation(
            f"number{suffix}", "number", comma=comma, description="a number"
        )
        for places in range(1, 5):
            name = f"number_{places}dp{suffix}"
            table[name] = Validation(
                name,
                "number",
                decimals=places,
                comma=comma,
                description=(
                    f"a number with at most {places} decimal place{'s' if places > 1 else ''} "
                    f"(decimal {mark})"
                ),
            )
    for order in ("ymd", "mdy", "dmy"):
        table[f"date_{order}"] = Validation(
            f"date_{order}", "date", description="a date written YYYY-MM-DD"
        )
        table[f"datetime_{order}"] = Validation(
            f"datetime_{order}", "datetime", description="a date and time written YYYY-MM-DD HH:MM"
        )
        table[f"datetime_seconds_{order}"] = Validation(
            f"datetime_seconds_{order}",
            "datetime",
            seconds=True,
            description="a date and time written YYYY-MM-DD HH:MM:SS",
        )
    for name in IDENTIFIER_VALIDATIONS:
        table[name] = Validation(name, "identifier", description="an identifier")
    return table


IDENTIFIER_VALIDATIONS: Final[tuple[str, ...]] = (
    "email",
    "phone",
    "phone_australia",
    "phone_uk",
    "ssn",
    "mrn_10d",
    "mrn_generic",
    "vmrn",
    "zipcode",
    "postalcode_australia",
    "postalcode_canada",
    "postalcode_french",
    "postalcode_germany",
    "postalcode_uk",
)
"""REDCap validations whose values are direct identifiers: allowed only on identifier fields."""

VALIDATIONS: Final[dict[str, Validation]] = _table()

_IDENTIFIER_LIKE = re.compile(r"^(?:email|phone.*|ssn.*|mrn_.*|vmrn.*|zip.*|postal.*)$")


def validation_for(name: str) -> Validation | None:
    """The meaning of a validation name, or None when the registry does not know it.

    REDCap sites add their own identifier validations (``mrn_8d``, ``postalcode_brazil``); any
    name shaped like one is known as an identifier validation, so it is refused on ordinary fields
    with the identifier message rather than an "unknown validation" one.
    """
    known = VALIDATIONS.get(name)
    if known is None and _IDENTIFIER_LIKE.match(name):
        return Validation(name, "identifier", description="an identifier")
    return known


_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER_POINT = re.compile(r"[-+]?(?:\d+(?:\.(\d*))?|\.(\d+))(?:[eE][-+]?\d+)?")
_NUMBER_COMMA = re.compile(r"[-+]?(?:\d+(?:[.,](\d*))?|[.,](\d+))")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATETIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_integer(value: object) -> int | None:
    """A whole number from text or a JSON number; None when it is not one.

    JSON numbers with an integral value (``12.0``, as pandas writes them) are whole numbers;
    the text ``"12.0"`` is not, as in REDCap. Booleans are never numbers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
    return None


def parse_number(
    value: object, *, decimals: int | None = None, comma: bool = False
) -> float | None:
    """A finite number from text or a JSON number, with at most ``decimals`` places."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return None
        if decimals is not None and round(number, decimals) != number:
            return None
        return number
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = (_NUMBER_COMMA if comma else _NUMBER_POINT).fullmatch(text)
    if match is None:
        return None
    places = match.group(1) or match.group(2) or ""
    if decimals is not None and len(places) > decimals:
        return None
    number = float(text.replace(",", "."))
    return number if math.isfinite(number) else None


def format_number(value: float) -> str:
    """A number as REDCap writes it: no trailing ``.0`` on whole numbers."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def parse_date(value: object) -> dt.date | None:
    """A date written Y-M-D (the only form stored or exchanged), or a date object."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_datetime(value: object, *, seconds: bool = False) -> dt.datetime | None:
    """A date and time written ``YYYY-MM-DD HH:MM`` (``:SS`` when ``seconds``)."""
    if isinstance(value, dt.datetime):
        return value if seconds else value.replace(second=0, microsecond=0)
    if not isinstance(value, str):
        return None
    match = _DATETIME.fullmatch(value.strip())
    if match is None or (match[6] is None) == seconds:
        return None
    try:
        return dt.datetime(
            int(match[1]),
            int(match[2]),
            int(match[3]),
            int(match[4]),
            int(match[5]),
            int(match[6] or 0),
        )
    except ValueError:
        return None


def parse_time(value: object, time_format: str) -> str | None:
    """A time (or an MM:SS duration) in its canonical zero-padded text form."""
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return None
    first, second, third = int(match[1]), int(match[2]), match[3]
    if time_format == "hh:mm:ss":
        if third is None or first > 23 or second > 59 or int(third) > 59:
            return None
        return f"{first:02d}:{second:02d}:{int(third):02d}"
    if third is not None or second > 59:
        return None
    if time_format == "hh:mm" and first > 23:
        return None
    if time_format == "mm:ss" and first > 59:
        return None
    return f"{first:02d}:{second:02d}"


def format_datetime(value: dt.datetime, *, seconds: bool) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
