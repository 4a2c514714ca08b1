"""CSV cells a spreadsheet will not run: the OWASP rule against formula injection.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
by Excel, LibreOffice and Google Sheets; a free-text answer such as `=HYPERLINK(...)` would
run on the reader's machine. Such a cell is written with a single quote in front, which
spreadsheets show as text. A plain number (`-3`, `+1.5`, `-2e-3`) and a lone `-` are left as
they are: they are not formulas, and numeric columns must stay numeric. Only CSV is changed;
JSON and the database keep the value as it was entered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

FORMULA_STARTS: Final = frozenset("=+-@\t\r")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# The same rule for PostgreSQL's COPY path (pgcopy.py): ascii() of the first character, then
# the plain-number test in the database's regular expressions.
SQL_FORMULA_CODES: Final = "9, 13, 43, 45, 61, 64"
SQL_PLAIN_NUMBER: Final = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def safe_cell(value: Any) -> Any:
    """`value` as a CSV cell that no spreadsheet runs as a formula."""
    if (
        type(value) is str
        and value
        and value[0] in FORMULA_STARTS
        and value != "-"
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def sql_safe_text(expression: str) -> str:
    """SQL that gives the text `expression` with the rule applied (`expression` is repeated,
    so it should be cheap to compute)."""
    return (
        f"CASE WHEN ascii({expression}) IN ({SQL_FORMULA_CODES}) AND {expression} <> '-' "
        f"AND {expression} !~ '{SQL_PLAIN_NUMBER}' THEN '''' || {expression} "
        f"ELSE {expression} END"
    )


class SafeWriter:
    """A `csv.writer` whose cells pass through `safe_cell`."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        self._writer.writerows(safe_row(row) for row in rows)
