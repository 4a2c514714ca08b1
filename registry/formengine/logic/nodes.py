"""The syntax tree of the logic language: small frozen dataclasses, compared by value.

A parsed tree holds only non-negative numbers (``-1`` is ``Unary("-", Number(1))``), lower-case
function names and canonical operators (``<>`` for ``!=``, ``and``/``or`` for ``&&``/``||``),
so that printing a tree and parsing the text again gives an equal tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "ARITHMETIC_OPERATORS",
    "COMPARISON_OPERATORS",
    "Binary",
    "Boolean",
    "Call",
    "FieldRef",
    "Logical",
    "Node",
    "Number",
    "SmartVariable",
    "String",
    "Unary",
]

COMPARISON_OPERATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
ARITHMETIC_OPERATORS = frozenset({"+", "-", "*", "/", "^"})


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float


@dataclass(frozen=True, slots=True)
class String:
    value: str


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``[field]``, ``[field(code)]`` for one checkbox option, optionally qualified by an event
    (``[event][field]``) or an instance (``[field][2]``, ``[field][previous-instance]``)."""

    field: str
    code: str | None = None
    event: str | None = None
    instance: int | str | None = None

    @property
    def qualified(self) -> bool:
        return self.event is not None or self.instance is not None


@dataclass(frozen=True, slots=True)
class SmartVariable:
    """A smart variable such as ``[record-name]``; its name always contains a hyphen."""

    name: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" or "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # a comparison or arithmetic operator
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical:
    """``a and b and c`` as one node: long REDCap or-lists stay shallow trees."""

    op: str  # "and" or "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node: TypeAlias = (
    Number | String | Boolean | FieldRef | SmartVariable | Unary | Binary | Logical | Call
)
