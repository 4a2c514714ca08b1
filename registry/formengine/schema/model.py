"""The schema's nouns: a form, its fields and what they hold, and the problems of a document.

Every class here is frozen. ``Field`` and ``FormSchema`` compile what validation needs (logic,
patterns, bounds, evaluation order) when they are built, so a schema is always consistent with
itself and validating a submission never parses. The checks of a document that build them are
in ``loader``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import MappingProxyType
from typing import Any, TypeAlias

from registry.formengine import logic
from registry.formengine.actiontags import ActionTags, Conditional, parse_action_tags
from registry.formengine.values import (
    Validation,
    parse_date,
    parse_datetime,
    parse_time,
    validation_for,
)

from .order import evaluation_order
from .vocabulary import IMPLICIT_CHOICES, PIPED_BOUND, checkbox_column, split_reference

__all__ = [
    "Annotation",
    "Bound",
    "Check",
    "Choice",
    "Field",
    "FormSchema",
    "Limits",
    "MissingCode",
    "Node",
    "Problem",
    "RecordId",
    "SchemaError",
    "Slider",
    "base_names",
    "conditionals",
    "parse_bound",
]

_TAGS = re.compile(r"<[^>]*>")


Bound: TypeAlias = int | float | str
Node: TypeAlias = logic.Node


def _empty_mapping() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a schema: where (``path``, the field's name) and what to do."""

    path: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = self.path if self.field is None else f"{self.path} ({self.field})"
        return f"{where}: {self.message}"


class SchemaError(ValueError):
    """A schema was refused; ``problems`` lists everything wrong with it, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        summary = "; ".join(str(problem) for problem in self.problems[:5])
        more = f" (and {count - 5} more)" if count > 5 else ""
        plural = "s" if count != 1 else ""
        super().__init__(f"{count} problem{plural} in the schema: {summary}{more}")


@dataclass(frozen=True, slots=True)
class Annotation:
    """An ontology code attached to a field or a choice (HPO, ORPHA, SNOMED, LOINC)."""

    system: str
    code: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    label: str
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True, slots=True)
class Slider:
    """A slider's three labels; ``show_number`` shows the chosen value beside it (REDCap's
    "number" in the validation column)."""

    left: str = ""
    middle: str = ""
    right: str = ""
    show_number: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """A plausible range for data-quality checks: outside it is flagged, never refused."""

    min: int | float | None = None
    max: int | float | None = None


@dataclass(frozen=True, slots=True)
class RecordId:
    """The record-ID field of the REDCap project a form came from: its name, its label and, when
    it is not the first form, the instrument it sits on (one that may hold nothing else). The
    registry's own record ID is the patient's pseudonym; this is what a dictionary export says."""

    name: str
    label: str
    form: str = ""


@dataclass(frozen=True, slots=True)
class MissingCode:
    code: str
    label: str


@dataclass(frozen=True)
class Check:
    """A save-blocking rule: when ``rule`` is false, ``message`` is shown on ``field``."""

    field: str
    rule: str
    message: str
    logic: Node = dc_field(compare=False, repr=False)
    references: frozenset[str] = dc_field(default=frozenset(), compare=False, repr=False)


@dataclass(frozen=True)
class Field:
    """One field of a form, with its logic and bounds compiled for validation."""

    name: str
    type: str
    label: str
    section: str = ""
    note: str = ""
    validation: str = ""
    min: Bound | None = None
    max: Bound | None = None
    pattern: str = ""
    pattern_message: str = ""
    required: bool = False
    identifier: bool = False
    show_if: str = ""
    calc: str = ""
    choices: tuple[Choice, ...] = ()
    slider: Slider | None = None
    matrix_group: str = ""
    alignment: str = ""
    annotations: tuple[Annotation, ...] = ()
    renamed_from: str = ""
    limits: Limits | None = None
    phi_screen: bool = False
    """True when values are screened for identifiers (free text, unless the schema opts out)."""
    annotation: str = ""
    """REDCap's Field Annotation as written: free text and action tags (see actiontags.py)."""
    ontology: str = ""
    """A text field whose value is a term of this ontology (REDCap's ``BIOPORTAL:HP``)."""

    # Derived in __post_init__ so that a Field is always self-consistent.
    show_if_logic: Node | None = dc_field(default=None, init=False, compare=False, repr=False)
    calc_logic: Node | None = dc_field(default=None, init=False, compare=False, repr=False)
    show_if_fields: frozenset[str] = dc_field(
        default=frozenset(), init=False, compare=False, repr=False
    )
    calc_fields: frozenset[str] = dc_field(
        default=frozenset(), init=False, compare=False, repr=False
    )
    pattern_regex: re.Pattern[str] | None = dc_field(
        default=None, init=False, compare=False, repr=False
    )
    validation_info: Validation | None = dc_field(
        default=None, init=False, compare=False, repr=False
    )
    lower: object = dc_field(default=None, init=False, compare=False, repr=False)
    upper: object = dc_field(default=None, init=False, compare=False, repr=False)
    choice_codes: tuple[str, ...] = dc_field(default=(), init=False, compare=False, repr=False)
    choice_labels: Mapping[str, str] = dc_field(
        default_factory=_empty_mapping, init=False, compare=False, repr=False
    )
    display_name: str = dc_field(default="", init=False, compare=False, repr=False)
    tags: ActionTags = dc_field(default=ActionTags(), init=False, compare=False, repr=False)
    """The action tags of ``annotation`` that validation and the form act on."""
    calctext_logic: Node | None = dc_field(default=None, init=False, compare=False, repr=False)
    piped_bounds: tuple[tuple[str, str], ...] = dc_field(
        default=(), init=False, compare=False, repr=False
    )
    """("min" or "max", field name) for each limit taken from another field."""

    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.show_if:
            node = logic.compile_logic(self.show_if)
            put(self, "show_if_logic", node)
            put(self, "show_if_fields", base_names(logic.field_references(node)))
        if self.calc:
            node = logic.compile_logic(self.calc)
            put(self, "calc_logic", node)
            put(self, "calc_fields", base_names(logic.field_references(node)))
        if self.annotation:
            tags, _ = parse_action_tags(self.annotation)
            put(self, "tags", tags)
            if tags.calctext and self.type == "text":
                node = logic.compile_logic(tags.calctext)
                put(self, "calctext_logic", node)
                # Ordered like a calc: a computed text comes after what it reads.
                put(
                    self,
                    "calc_fields",
                    self.calc_fields | base_names(logic.field_references(node)),
                )
        if self.pattern:
            put(self, "pattern_regex", re.compile(self.pattern))
        info = validation_for(self.validation) if self.validation else None
        put(self, "validation_info", info)
        lower, upper = _bounds(self)
        put(self, "lower", lower)
        put(self, "upper", upper)
        options = self.all_choices()
        put(self, "choice_codes", tuple(code for code, _ in options))
        put(self, "choice_labels", MappingProxyType(dict(options)))
        put(self, "display_name", _display_name(self.label, self.name))
        piped = tuple(
            (key, match[1])
            for key, bound in (("min", self.min), ("max", self.max))
            if isinstance(bound, str) and (match := PIPED_BOUND.fullmatch(bound))
        )
        if piped:
            put(self, "piped_bounds", piped)

    @property
    def stores_data(self) -> bool:
        """Whether submissions hold a value for this field (descriptive and identifier do not)."""
        return self.type != "descriptive" and not self.identifier

    @property
    def is_free_text(self) -> bool:
        return self.type == "notes" or (
            self.type == "text" and not self.validation and not self.ontology
        )

    @property
    def is_computed(self) -> bool:
        """A calc, or a text field with @CALCTEXT: the server computes its value."""
        return self.type == "calc" or self.calctext_logic is not None

    def all_choices(self) -> tuple[tuple[str, str], ...]:
        """(code, label) pairs, including the implicit ones of yesno and truefalse."""
        if self.type in IMPLICIT_CHOICES:
            return IMPLICIT_CHOICES[self.type]
        return tuple((choice.code, choice.label) for choice in self.choices)


@dataclass(frozen=True)
class FormSchema:
    """A checked CRF version. Build it with ``load_schema``; it is immutable and hashable."""

    form: str
    version: int
    title: str
    fields: tuple[Field, ...]
    repeatable: bool = False
    description: str = ""
    retired: tuple[str, ...] = ()
    missing_codes: tuple[MissingCode, ...] = ()
    checks: tuple[Check, ...] = ()
    record_id: RecordId | None = None

    fields_by_name: Mapping[str, Field] = dc_field(
        default_factory=_empty_mapping, init=False, compare=False, repr=False
    )
    evaluation_order: tuple[Field, ...] = dc_field(
        default=(), init=False, compare=False, repr=False
    )
    """Fields ordered so that every field comes after those its show_if or calc reads."""
    missing_code_set: frozenset[str] = dc_field(
        default=frozenset(), init=False, compare=False, repr=False
    )
    checkbox_columns: Mapping[str, tuple[str, str]] = dc_field(
        default_factory=_empty_mapping, init=False, compare=False, repr=False
    )
    """Flat-export checkbox column (``field___code``) -> (field name, choice code)."""
    external_fields: frozenset[str] = dc_field(
        default=frozenset(), init=False, compare=False, repr=False
    )
    """Fields of other forms that this form's logic reads (docs/form-schema.md says from which
    submission); their values are constants while this form is validated."""
    cache: dict[str, object] = dc_field(default_factory=dict, init=False, compare=False, repr=False)
    """Per-schema working data of the engine's modules (validation plans), built on first use."""

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "fields_by_name", MappingProxyType({f.name: f for f in self.fields}))
        order, _ = evaluation_order(self.fields)
        put(self, "evaluation_order", tuple(self.fields[index] for index in order))
        put(self, "missing_code_set", frozenset(code.code for code in self.missing_codes))
        read = set().union(
            *(f.show_if_fields | f.calc_fields for f in self.fields),
            *(check.references for check in self.checks),
            *(
                base_names(logic.field_references(conditional.logic))
                for f in self.fields
                for conditional in conditionals(f.tags)
            ),
        )
        put(self, "external_fields", frozenset(read - self.fields_by_name.keys()))
        put(
            self,
            "checkbox_columns",
            MappingProxyType(
                {
                    checkbox_column(f.name, choice.code): (f.name, choice.code)
                    for f in self.fields
                    if f.type == "checkbox"
                    for choice in f.choices
                }
            ),
        )

    def field(self, name: str) -> Field:
        """The field called ``name``; KeyError when the form has none."""
        return self.fields_by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.fields_by_name

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def data_fields(self) -> tuple[Field, ...]:
        """Fields whose values are stored, in form order."""
        return tuple(f for f in self.fields if f.stores_data)


def base_names(references: Iterable[str]) -> frozenset[str]:
    """The fields that references name, a checkbox option's (``f(code)``) as its field's."""
    return frozenset(split_reference(reference)[0] for reference in references)


def _display_name(label: str, name: str) -> str:
    text = " ".join(_TAGS.sub(" ", label).split())
    if not text:
        return name
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def _bounds(f: Field) -> tuple[object, object]:
    if f.type == "slider":
        low = 0 if f.min is None else f.min
        high = 100 if f.max is None else f.max
        return low, high
    info = f.validation_info
    if info is None or not info.has_bounds:
        return None, None
    return parse_bound(info, f.min), parse_bound(info, f.max)


def parse_bound(info: Validation, value: Bound | None) -> object:
    """A bound in the form validation compares against; "today"/"now" stay symbolic."""
    if value is None:
        return None
    if info.family in {"integer", "number"}:
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().lower() in {"today", "now"}:
        return value.strip().lower()
    if info.family == "date":
        return parse_date(value)
    if info.family == "datetime":
        return parse_datetime(value, seconds=info.seconds) or _date_as_datetime(value)
    if info.family == "time":
        return parse_time(value, info.time_format)
    return None


def _date_as_datetime(value: object) -> dt.datetime | None:
    day = parse_date(value)
    return None if day is None else dt.datetime(day.year, day.month, day.day)


def conditionals(tags: ActionTags) -> Iterator[Conditional]:
    """Every @IF of a field, nested ones included."""
    for part in tags.every():
        yield from part.conditionals
