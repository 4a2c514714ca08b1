"""Reading a schema document's plain values, collecting every problem instead of stopping.

A ``SchemaReader`` goes with one document: each read of a name, a piece of text, a flag, a code
or some logic gives back what can be used and records what is wrong with it under its YAML path
(``fields[3].choices[1].code``) and the field it belongs to, so that ``SchemaError`` can list
every problem of the document at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from registry.formengine import logic

from .model import Problem
from .vocabulary import NAME_RULE, code_is_valid, name_problem

__all__ = ["SchemaReader"]


class SchemaReader:
    """The problems of one document so far, and the readers of its plain values."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(path, message, field))

    def unknown_keys(
        self,
        data: Mapping[str, Any],
        known: Sequence[str],
        path: str,
        what: str,
        field: str | None = None,
    ) -> None:
        for key in data:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = (
                f"; did you mean '{close[0]}'?"
                if close
                else f"; the keys {what} may have are " + ", ".join(known)
            )
            self.problem(_join(path, str(key)), f"unknown key '{key}'{hint}", field)

    def name(self, value: object, path: str, what: str, field: str | None = None) -> str:
        if not isinstance(value, str) or not value:
            self.problem(path, f"{what} is missing; write {NAME_RULE}", field)
            return ""
        problem = name_problem(value)
        if problem:
            self.problem(path, f"{what} '{value}' {problem}", field)
        return value

    def text(
        self, value: object, path: str, *, required: bool = False, field: str | None = None
    ) -> str:
        if value is None or value == "":
            if required:
                self.problem(path, "is required and must not be blank", field)
            return ""
        if not isinstance(value, str):
            self.problem(path, f"must be text; found {value!r}", field)
            return ""
        if required and not value.strip():
            self.problem(path, "is required and must not be blank", field)
        # One kind of line break, so that a schema reads the same from YAML, CSV or a form.
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()

    def flag(self, value: object, path: str, field: str | None = None) -> bool:
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false; found {value!r}", field)
            return False
        return value

    def code(self, value: object, path: str, field: str | None = None) -> str:
        if not isinstance(value, str):
            quoted = isinstance(value, int | float) and not isinstance(value, bool)
            hint = f'; write it in quotes, code: "{value}"' if quoted else ""
            self.problem(path, f"must be text{hint}", field)
            return str(value)
        if not code_is_valid(value):
            self.problem(
                path,
                f"code '{value}' may hold only letters, digits, '.', '_' and '-' "
                "(no spaces or commas)",
                field,
            )
        return value

    def logic_source(self, value: object, path: str, field: str | None) -> str:
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            self.problem(path, f"must be logic written as text; found {value!r}", field)
            return ""
        try:
            logic.compile_logic(value)
        except logic.LogicSyntaxError as error:
            shown = value.strip()
            shown = shown if len(shown) <= 200 else shown[:200] + "…"
            self.problem(
                path, f"{error.message} (at character {error.position + 1} of {shown!r})", field
            )
            return ""
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
