"""SQL over the submissions' JSON column, in the two dialects the registry runs on.

PostgreSQL stores `Submission.data` as jsonb and SQLite as JSON text; both can pull a value out
of it inside a query, so counts, means and cross-tabs run in the database and never load whole
submissions into Python. Each method returns an SQL fragment for a field of the `data` column
of the table aliased `alias`.

Field names are pasted into the SQL, so they are checked against the form schema's name rule
first (lower-case letters, digits and underscores); values always travel as parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from registry.formengine import logic
from registry.formengine.logic.nodes import COMPARISON_OPERATORS

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a field name")
    return name


class JsonSql:
    """The fragments for one database vendor ("postgresql" or "sqlite")."""

    def __init__(self, vendor: str | None = None) -> None:
        self.vendor = vendor or connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            # The registry supports these two databases (DESIGN.md); say so rather than guess.
            raise ImproperlyConfigured(
                f"Statistics run on PostgreSQL or SQLite; this database is {self.vendor}."
            )

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    def text(self, alias: str, name: str) -> str:
        """The value as text (choice codes, missing codes); NULL when absent."""
        name = _checked(name)
        if self.postgres:
            return f"({alias}.data ->> '{name}')"
        return f"json_extract({alias}.data, '$.{name}')"

    def number(self, alias: str, name: str) -> str:
        """The value as a number when it is a JSON number; NULL otherwise (blank, missing code)."""
        name = _checked(name)
        if self.postgres:
            return (
                f"(CASE WHEN jsonb_typeof({alias}.data -> '{name}') = 'number' "
                f"THEN ({alias}.data ->> '{name}')::double precision END)"
            )
        return (
            f"(CASE WHEN json_type({alias}.data, '$.{name}') IN ('integer', 'real') "
            f"THEN json_extract({alias}.data, '$.{name}') END)"
        )

    def is_array(self, alias: str, name: str) -> str:
        name = _checked(name)
        if self.postgres:
            return f"(jsonb_typeof({alias}.data -> '{name}') = 'array')"
        return f"(json_type({alias}.data, '$.{name}') = 'array')"

    def present(self, alias: str, name: str) -> str:
        """True when the document holds a value for the field (blanks are never stored)."""
        name = _checked(name)
        if self.postgres:
            return f"({alias}.data -> '{name}' IS NOT NULL)"
        return f"(json_type({alias}.data, '$.{name}') IS NOT NULL)"

    def contains(self, alias: str, name: str, code_param: str = "%s") -> str:
        """True when a checkbox field's list holds the code given as a parameter."""
        name = _checked(name)
        if self.postgres:
            return (
                f"(jsonb_typeof({alias}.data -> '{name}') = 'array' AND "
                f"({alias}.data -> '{name}') ? {code_param})"
            )
        return (
            f"(json_type({alias}.data, '$.{name}') = 'array' AND EXISTS (SELECT 1 FROM "
            f"json_each({alias}.data, '$.{name}') WHERE json_each.value = {code_param}))"
        )

    def _array(self, alias: str, name: str) -> str:
        name = _checked(name)
        if self.postgres:
            return (
                f"CASE WHEN jsonb_typeof({alias}.data -> '{name}') = 'array' "
                f"THEN {alias}.data -> '{name}' END"
            )
        return (
            f"CASE WHEN json_type({alias}.data, '$.{name}') = 'array' "
            f"THEN json_extract({alias}.data, '$.{name}') END"
        )

    def by_version(self, alias: str, names: Mapping[int, str | None], kind: str) -> str:
        """One harmonised value across the versions of a form.

        `names` maps each form version's id to the field's name in that version (None where the
        version lacks it: that version gives NULL). `kind` is "text", "number" or "array" (a
        checkbox list, for `elements`).
        """
        pick = {"number": self.number, "text": self.text, "array": self._array}[kind]
        present = {version_id: name for version_id, name in names.items() if name}
        if not present:
            return "NULL"
        if len(present) == len(names) and len(set(present.values())) == 1:
            return f"({pick(alias, next(iter(present.values())))})"
        whens = " ".join(
            f"WHEN {int(version_id)} THEN ({pick(alias, name)})"
            for version_id, name in sorted(present.items())
        )
        return f"(CASE {alias}.form_version_id {whens} END)"

    def elements(self, alias: str, names: Mapping[int, str | None], element_alias: str) -> str:
        """A join giving one row per element of a checkbox list, as `element_alias.value`."""
        return self.each_element(self.by_version(alias, names, "array"), element_alias)

    def each_element(self, source: str, element_alias: str) -> str:
        """A join giving one row per element of the list `source` (none when it is NULL)."""
        if self.postgres:
            return (
                f"CROSS JOIN LATERAL jsonb_array_elements_text({source}) AS {element_alias}(value)"
            )
        return f"JOIN json_each({source}) AS {element_alias}"

    def fan_out(
        self, rows: Sequence[Sequence[str]], alias: str, columns: Sequence[str]
    ) -> tuple[str, list[str]]:
        """A join giving each row of the outer query once per entry of `rows`, so that one scan
        feeds the aggregates of many fields: entry i holds the SQL expressions of `columns`
        for that field, and comes out with `alias`.f = i.

        Returns the join and the expressions to select, f first. PostgreSQL evaluates each
        entry's expressions once (LATERAL VALUES); SQLite has no LATERAL, so it joins the
        numbers 0..n-1 and picks each entry's expression with CASE.
        """
        for column in ("f", *columns):
            _checked(column)
        if self.postgres:
            values = ", ".join(f"({i}, {', '.join(row)})" for i, row in enumerate(rows))
            join = f"CROSS JOIN LATERAL (VALUES {values}) AS {alias}(f, {', '.join(columns)})"
            return join, [f"{alias}.f", *(f"{alias}.{column}" for column in columns)]
        numbers = " UNION ALL ".join(f"SELECT {i} AS f" for i in range(len(rows)))
        picks = [
            f"(CASE {alias}.f "
            + " ".join(f"WHEN {i} THEN {row[c]}" for i, row in enumerate(rows))
            + " END)"
            for c in range(len(columns))
        ]
        return f"JOIN ({numbers}) AS {alias}", [f"{alias}.f", *picks]

    def condition(self, node: logic.Node, alias: str) -> str | None:
        """A branching-logic tree as an SQL predicate over stored data, or None when the tree
        uses something the translation does not cover (functions, arithmetic).

        Covers what show_if conditions are made of: comparisons of a field with a literal,
        checkbox options, and/or/not. Blanks follow the logic language: a blank equals '', and
        an ordering comparison with a blank is false. The predicate is never NULL.
        """
        if isinstance(node, logic.Logical):
            parts = [self.condition(operand, alias) for operand in node.operands]
            if any(part is None for part in parts):
                return None
            return "(" + f" {node.op.upper()} ".join(parts) + ")"  # type: ignore[arg-type]
        if isinstance(node, logic.Unary) and node.op == "not":
            inner = self.condition(node.operand, alias)
            return None if inner is None else f"(NOT {inner})"
        if isinstance(node, logic.Boolean):
            return "(1 = 1)" if node.value else "(1 = 0)"
        if not isinstance(node, logic.Binary) or node.op not in COMPARISON_OPERATORS:
            return None
        left, right, op = node.left, node.right, node.op
        if isinstance(left, logic.String | logic.Number) and isinstance(right, logic.FieldRef):
            left, right = right, left
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        if not isinstance(left, logic.FieldRef) or left.qualified:
            return None
        if not isinstance(right, logic.String | logic.Number):
            return None
        literal = right.value
        if left.code is not None:
            if op not in ("=", "<>") or str(literal) not in ("0", "1"):
                return None
            checked = f"COALESCE({self.contains(alias, left.field, _quote(left.code))}, FALSE)"
            wanted = (str(literal) == "1") == (op == "=")
            return checked if wanted else f"(NOT {checked})"
        if op in ("=", "<>"):
            value = _format_literal(literal)
            same = f"(COALESCE({self.text(alias, left.field)}, '') = {_quote(value)})"
            return same if op == "=" else f"(NOT {same})"
        if not isinstance(literal, int | float):
            return None
        return f"COALESCE(({self.number(alias, left.field)} {op} {float(literal)!r}), FALSE)"


def _format_literal(value: str | int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
