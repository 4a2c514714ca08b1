"""Form schemas: the checked, immutable in-memory form of a CRF version.

A schema file (``forms/<form>/v<N>.yaml``, see docs/form-schema.md) is plain data. ``load_schema``
checks all of it at once and either returns a ``FormSchema`` or raises ``SchemaError`` listing
every problem, each with a path (``fields[3].choices[1].code``) and a sentence saying what is
wrong and what would be right. A ``FormSchema`` holds everything validation needs already
compiled (logic, patterns, bounds, evaluation order), so validating a submission never parses.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import heapq
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from registry.formengine import logic
from registry.formengine.actiontags import (
    REGISTRY_TAGS,
    ActionTags,
    Conditional,
    parse_action_tags,
    tokens,
)
from registry.formengine.values import (
    Validation,
    parse_date,
    parse_datetime,
    parse_time,
    validation_for,
)

__all__ = [
    "ANNOTATION_SYSTEMS",
    "FIELD_TYPES",
    "Annotation",
    "Check",
    "Choice",
    "Field",
    "FormSchema",
    "Limits",
    "MissingCode",
    "Problem",
    "RecordId",
    "SchemaError",
    "Slider",
    "checkbox_column",
    "content_hash",
    "load_schema",
    "load_schemas",
    "schema_to_dict",
    "split_reference",
]

FIELD_TYPES: Final[tuple[str, ...]] = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "slider",
    "descriptive",
    "file",
)
LEGACY_TYPE_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"textarea": "notes", "select": "dropdown"}
)
CHOICE_TYPES: Final[frozenset[str]] = frozenset({"dropdown", "radio", "checkbox"})
IMPLICIT_CHOICES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = MappingProxyType(
    {"yesno": (("1", "Yes"), ("0", "No")), "truefalse": (("1", "True"), ("0", "False"))}
)
ANNOTATION_SYSTEMS: Final[Mapping[str, tuple[re.Pattern[str], str]]] = MappingProxyType(
    {
        "HPO": (re.compile(r"HP:\d{7}"), "HP: and seven digits, for example HP:0001335"),
        "ORPHA": (re.compile(r"ORPHA:\d+"), "ORPHA: and digits, for example ORPHA:238722"),
        "SNOMED": (re.compile(r"\d{6,18}"), "a SNOMED CT concept id of 6 to 18 digits"),
        "LOINC": (re.compile(r"\d{1,7}-\d"), "a LOINC code such as 8302-2"),
    }
)
ALIGNMENTS: Final[tuple[str, ...]] = ("LV", "LH", "RV", "RH")
ONTOLOGY_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
ONTOLOGY_TERM: Final = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,39}[:_][A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A term's code as a CURIE (``HP:0001250``, ``MONDO_0007739``, ``Orphanet:238722``)."""
REDCAP_RESERVED_NAMES: Final[frozenset[str]] = frozenset(
    {
        "redcap_event_name",
        "redcap_data_access_group",
        "redcap_repeat_instance",
        "redcap_repeat_instrument",
        "redcap_survey_identifier",
    }
)
MAX_NAME_LENGTH: Final = 100
NAME_RULE: Final = (
    "lower-case letters, digits and underscores, starting with a letter, not ending with an "
    "underscore, without '___', at most 100 characters"
)

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CODE = re.compile(r"[A-Za-z0-9._-]+")
_CHECKBOX_REF = re.compile(r"([^()]+)\((.*)\)")
_TAGS = re.compile(r"<[^>]*>")
PIPED_BOUND: Final = re.compile(r"\[([a-z][a-z0-9_]*)\]")
"""A limit taken from another field of the form (REDCap's piped min/max): ``[onset_age]``."""

Bound: TypeAlias = int | float | str
Node: TypeAlias = logic.Node

_FORM_KEYS = (
    "form",
    "version",
    "title",
    "repeatable",
    "description",
    "retired",
    "missing_codes",
    "checks",
    "record_id",
    "fields",
)
_FIELD_KEYS = (
    "name",
    "type",
    "label",
    "section",
    "note",
    "validation",
    "min",
    "max",
    "pattern",
    "pattern_message",
    "required",
    "identifier",
    "show_if",
    "calc",
    "choices",
    "slider",
    "matrix_group",
    "alignment",
    "annotations",
    "renamed_from",
    "limits",
    "phi_screen",
    "annotation",
    "ontology",
)


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
            put(self, "show_if_fields", _base_names(logic.field_references(node)))
        if self.calc:
            node = logic.compile_logic(self.calc)
            put(self, "calc_logic", node)
            put(self, "calc_fields", _base_names(logic.field_references(node)))
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
                    self.calc_fields | _base_names(logic.field_references(node)),
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
        order, _ = _evaluation_order(self.fields)
        put(self, "evaluation_order", tuple(self.fields[index] for index in order))
        put(self, "missing_code_set", frozenset(code.code for code in self.missing_codes))
        read = set().union(
            *(f.show_if_fields | f.calc_fields for f in self.fields),
            *(check.references for check in self.checks),
            *(
                _base_names(logic.field_references(conditional.logic))
                for f in self.fields
                for conditional in _conditionals(f.tags)
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


def checkbox_column(field_name: str, code: str) -> str:
    """The flat-export column of one checkbox option, as REDCap names it."""
    cleaned = re.sub(r"[^a-z0-9_]", "", code.lower().replace("-", "_").replace(".", "_"))
    return f"{field_name}___{cleaned}"


def split_reference(reference: str) -> tuple[str, str | None]:
    """``"f(code)"`` -> ``("f", "code")``; ``"f"`` -> ``("f", None)``."""
    match = _CHECKBOX_REF.fullmatch(reference)
    if match is None:
        return reference, None
    return match[1], match[2]


def _base_names(references: Iterable[str]) -> frozenset[str]:
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
    return _parse_bound(info, f.min), _parse_bound(info, f.max)


def _parse_bound(info: Validation, value: Bound | None) -> object:
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


def _out_of_order(low: object, high: object) -> bool:
    symbolic = {"today", "now"}
    if low is None or high is None or low in symbolic or high in symbolic:
        return False
    try:
        return bool(low > high)  # type: ignore[operator]
    except TypeError:
        return False


def _date_as_datetime(value: object) -> dt.datetime | None:
    day = parse_date(value)
    return None if day is None else dt.datetime(day.year, day.month, day.day)


# --------------------------------------------------------------------------------------------
# Loading and checking


def load_schema(
    data: Mapping[str, Any], *, others: Iterable[FormSchema] | None = None, published: bool = False
) -> FormSchema:
    """Check a schema document and build the ``FormSchema``; ``SchemaError`` lists all problems.

    Logic reads the form's own fields and, given ``others`` (the registry's other forms: those
    published with it and the latest versions of the rest), theirs too; a reference to a field
    of none of them is a problem. ``published`` loads a stored version, whose references to
    other forms were checked when it was published, without checking them again.
    """
    return _Loader(data, others, published).load()


def load_schemas(
    documents: Sequence[Mapping[str, Any]], *, published: Iterable[FormSchema] = ()
) -> list[FormSchema | SchemaError]:
    """Forms published together, each checked against the others and ``published`` (the latest
    versions of the registry's forms that are not among them): a schema or the problems, per
    document, in order."""
    first: list[FormSchema | SchemaError] = []
    for data in documents:
        try:
            first.append(load_schema(data, published=True))
        except SchemaError as error:
            first.append(error)
    # One version per form, the newest, when files hold several versions of one form.
    newest: dict[str, FormSchema] = {}
    for schema in first:
        if isinstance(schema, FormSchema) and (
            schema.form not in newest or schema.version > newest[schema.form].version
        ):
            newest[schema.form] = schema
    others = [*newest.values(), *(schema for schema in published if schema.form not in newest)]
    results: list[FormSchema | SchemaError] = []
    for data, outcome in zip(documents, first, strict=True):
        if isinstance(outcome, FormSchema) and not outcome.external_fields:
            results.append(outcome)  # it reads no other form: checked in full already
            continue
        try:
            results.append(load_schema(data, others=others))
        except SchemaError as error:
            results.append(error)
    return results


class _Loader:
    def __init__(
        self,
        data: Mapping[str, Any],
        others: Iterable[FormSchema] | None = None,
        published: bool = False,
    ) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.published = published
        # field name -> the other forms that have a field so named, with it
        self.elsewhere: dict[str, list[tuple[str, Field]]] | None = None
        if others is not None:
            own = data.get("form") if isinstance(data, Mapping) else None
            self.elsewhere = {}
            for schema in others:
                if schema.form == own:
                    continue
                for f in schema.fields:
                    self.elsewhere.setdefault(f.name, []).append((schema.form, f))

    def problem(self, path: str, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(path, message, field))

    # -- form level ------------------------------------------------------------------------

    def load(self) -> FormSchema:
        data = self.data
        if not isinstance(data, Mapping):
            raise SchemaError([Problem("", "a schema must be a mapping of keys to values")])
        self.unknown_keys(data, _FORM_KEYS, "", "the form")
        form = self.name(data.get("form"), "form", "the form name")
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problem("version", f"must be a whole number of 1 or more; found {version!r}")
            version = 1
        title = self.text(data.get("title"), "title", required=True)
        repeatable = self.flag(data.get("repeatable", False), "repeatable")
        description = self.text(data.get("description"), "description")
        missing_codes = self.missing_codes(data.get("missing_codes"))
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            self.problem("fields", "must be a list with at least one field")
            raw_fields = []
        fields = self.fields(raw_fields, form, missing_codes)
        by_name: dict[str, tuple[int, Field]] = {}
        for index, f in fields:
            by_name.setdefault(f.name, (index, f))
        self.logic_references(fields, by_name)
        self.matrix_groups(fields)
        self.renames(fields, data.get("retired"))
        retired = self.retired(data.get("retired"), by_name)
        checks = self.checks(data.get("checks"), by_name)
        self.piped_limits(fields, by_name)
        record_id = self.record_id(data.get("record_id"), by_name)
        self.dependency_cycles(fields)
        if self.problems:
            raise SchemaError(self.problems)
        return FormSchema(
            form=form,
            version=version,
            title=title,
            fields=tuple(f for _, f in fields),
            repeatable=repeatable,
            description=description,
            retired=retired,
            missing_codes=missing_codes,
            checks=checks,
            record_id=record_id,
        )

    def record_id(self, raw: object, by_name: Mapping[str, tuple[int, Field]]) -> RecordId | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.problem("record_id", "must be a mapping with name, label and optionally form")
            return None
        self.unknown_keys(raw, ("name", "label", "form"), "record_id", "record_id")
        name = self.name(raw.get("name"), "record_id.name", "the record ID field's name")
        if name in by_name:
            self.problem("record_id.name", f"'{name}' is also a field of this form")
        label = self.text(raw.get("label"), "record_id.label", required=True)
        form = ""
        if raw.get("form") is not None:
            form = self.name(raw.get("form"), "record_id.form", "the record ID's form")
        return RecordId(name, label, form)

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

    def missing_codes(self, raw: object) -> tuple[MissingCode, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem("missing_codes", "must be a list of {code, label} entries")
            return ()
        codes: list[MissingCode] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            path = f"missing_codes[{index}]"
            if not isinstance(item, Mapping):
                self.problem(path, "must be a mapping with code and label")
                continue
            self.unknown_keys(item, ("code", "label"), path, "a missing code")
            code = self.code(item.get("code"), f"{path}.code")
            label = self.text(item.get("label"), f"{path}.label", required=True)
            if code in seen:
                self.problem(f"{path}.code", f"missing code '{code}' is declared twice")
            seen.add(code)
            codes.append(MissingCode(code, label))
        return tuple(codes)

    def code(self, value: object, path: str, field: str | None = None) -> str:
        if not isinstance(value, str):
            quoted = isinstance(value, int | float) and not isinstance(value, bool)
            hint = f'; write it in quotes, code: "{value}"' if quoted else ""
            self.problem(path, f"must be text{hint}", field)
            return str(value)
        if not _CODE.fullmatch(value):
            self.problem(
                path,
                f"code '{value}' may hold only letters, digits, '.', '_' and '-' "
                "(no spaces or commas)",
                field,
            )
        return value

    # -- fields ----------------------------------------------------------------------------

    def fields(
        self, raw_fields: list[Any], form: str, missing_codes: tuple[MissingCode, ...]
    ) -> list[tuple[int, Field]]:
        fields: list[tuple[int, Field]] = []
        seen: dict[str, int] = {}
        reserved = REDCAP_RESERVED_NAMES | {f"{form}_complete", f"{form}_timestamp"}
        missing = {code.code for code in missing_codes}
        for index, raw in enumerate(raw_fields):
            path = f"fields[{index}]"
            if not isinstance(raw, Mapping):
                self.problem(path, "must be a mapping of field keys to values")
                continue
            built = self.field(raw, path, form)
            if built is None:
                continue
            if built.name in seen:
                self.problem(
                    f"{path}.name",
                    f"'{built.name}' is already the name of fields[{seen[built.name]}]; "
                    "field names must be unique",
                    built.name,
                )
            elif built.name in reserved:
                self.problem(
                    f"{path}.name",
                    f"'{built.name}' is reserved by REDCap; choose another name",
                    built.name,
                )
            seen.setdefault(built.name, index)
            clash = missing & set(built.choice_codes)
            if clash:
                self.problem(
                    f"{path}.choices",
                    f"choice code(s) {', '.join(sorted(clash))} are also declared as missing "
                    "codes; a value must mean one thing",
                    built.name,
                )
            fields.append((index, built))
        return fields

    def field(self, raw: Mapping[str, Any], path: str, form: str) -> Field | None:
        raw_name = raw.get("name")
        label_for = raw_name if isinstance(raw_name, str) and raw_name else None
        self.unknown_keys(raw, _FIELD_KEYS, path, "a field", label_for)
        name = self.name(raw_name, f"{path}.name", "field name", label_for)

        def p(key: str) -> str:
            return f"{path}.{key}"

        def bad(key: str, message: str) -> None:
            self.problem(p(key), message, label_for)

        raw_kind = raw.get("type")
        kind = raw_kind if isinstance(raw_kind, str) else ""
        if kind == "sql":
            bad(
                "type",
                "type 'sql' is not supported: it runs SQL against the database. "
                "Use a dropdown with its choices written out",
            )
            kind = "text"
        elif kind in LEGACY_TYPE_ALIASES:
            bad("type", f"'{kind}' is REDCap's old name; write type: {LEGACY_TYPE_ALIASES[kind]}")
            kind = LEGACY_TYPE_ALIASES[kind]
        elif kind not in FIELD_TYPES:
            bad("type", f"unknown type {raw_kind!r}; use one of {', '.join(FIELD_TYPES)}")
            kind = "text"

        # REDCap allows a blank label on a descriptive field (an image or a spacer) and on the
        # rows of a matrix (the matrix header says it all).
        label_optional = kind == "descriptive" or raw.get("matrix_group") is not None
        label = self.text(
            raw.get("label"), p("label"), required=not label_optional, field=label_for
        )
        section = self.text(raw.get("section"), p("section"), field=label_for)
        note = self.text(raw.get("note"), p("note"), field=label_for)
        required = self.flag(raw.get("required", False), p("required"), label_for)
        identifier = self.flag(raw.get("identifier", False), p("identifier"), label_for)

        validation = self.text(raw.get("validation"), p("validation"), field=label_for)
        info: Validation | None = None
        if validation == "autocomplete":
            # REDCap's searchable dropdown: a way of showing the choices, nothing to check.
            if kind != "dropdown":
                bad("validation", "autocomplete applies to dropdown fields only")
        elif validation and kind == "file":
            if validation != "signature":
                bad("validation", "a file field takes only the validation 'signature'")
            elif not identifier:
                bad(
                    "validation",
                    "a signature identifies the patient; mark the field "
                    "identifier: true (it will not be stored) or remove it",
                )
        elif validation:
            info = validation_for(validation)
            if info is None:
                bad(
                    "validation",
                    f"unknown validation '{validation}'; use one of integer, "
                    "number, number_1dp..number_4dp, date_ymd, datetime_ymd, time, alpha_only "
                    "(or an identifier validation such as email on an identifier field)",
                )
            elif kind == "slider":
                bad(
                    "validation",
                    "a slider takes no validation; use slider.show_number to show the value",
                )
            elif kind != "text":
                bad("validation", f"only text fields take a validation, not {kind} fields")
            elif info.family == "identifier" and not identifier:
                bad(
                    "validation",
                    f"'{validation}' collects a direct identifier; it is allowed "
                    "only on a field marked identifier: true (whose values are never stored)",
                )

        if validation and info is None and kind == "text":
            minimum = maximum = None  # the unknown validation is the one problem to report
        else:
            minimum, maximum = self.bounds(raw, path, kind, info, label_for)

        pattern = self.text(raw.get("pattern"), p("pattern"), field=label_for)
        pattern_message = self.text(
            raw.get("pattern_message"), p("pattern_message"), field=label_for
        )
        if pattern:
            if kind != "text":
                bad("pattern", "only text fields take a pattern")
            try:
                re.compile(pattern)
            except re.error as error:
                bad("pattern", f"is not a valid regular expression: {error}")
                pattern = ""
        if pattern_message and not raw.get("pattern"):
            bad("pattern_message", "pattern_message needs a pattern")

        show_if = self.logic_source(raw.get("show_if"), p("show_if"), label_for)
        calc = self.logic_source(raw.get("calc"), p("calc"), label_for)
        if kind == "calc" and not calc and "calc" not in raw:
            bad("calc", "a calc field needs its calculation in calc")
        if calc and kind != "calc":
            bad("calc", "only calc fields take a calculation")
            calc = ""

        choices = self.choices(raw.get("choices"), p("choices"), kind, label_for)
        slider = self.slider(raw.get("slider"), p("slider"), kind, label_for)
        matrix_group = ""
        if raw.get("matrix_group") is not None:
            matrix_group = self.name(
                raw.get("matrix_group"), p("matrix_group"), "matrix group name", label_for
            )
            if kind not in {"radio", "checkbox"}:
                bad("matrix_group", "only radio and checkbox fields can form a matrix")
        alignment = self.text(raw.get("alignment"), p("alignment"), field=label_for)
        if alignment and alignment not in ALIGNMENTS:
            bad("alignment", f"must be one of {', '.join(ALIGNMENTS)}; found '{alignment}'")
        annotations = self.annotations(raw.get("annotations"), p("annotations"), label_for)
        renamed_from = ""
        if raw.get("renamed_from") is not None:
            renamed_from = self.name(
                raw.get("renamed_from"), p("renamed_from"), "renamed_from", label_for
            )
            if renamed_from and renamed_from == name:
                bad(
                    "renamed_from",
                    "names the field itself; drop renamed_from when the name did not change",
                )
        limits = self.limits(raw.get("limits"), p("limits"), kind, info, label_for)
        annotation = self.annotation(
            raw.get("annotation"), p("annotation"), kind, validation, choices, label_for
        )

        ontology = self.text(raw.get("ontology"), p("ontology"), field=label_for)
        if ontology:
            if not ONTOLOGY_NAME.fullmatch(ontology):
                bad(
                    "ontology",
                    f"'{ontology}' is not an ontology's acronym; write letters, "
                    "digits and '-' or '_', for example HP, ORDO, MONDO",
                )
            if kind != "text" or validation:
                bad(
                    "ontology", "an ontology term is the value of a text field without a validation"
                )
        free_text = kind == "notes" or (kind == "text" and not validation and not ontology)
        phi_screen = free_text
        if "phi_screen" in raw:
            value = self.flag(raw.get("phi_screen"), p("phi_screen"), label_for)
            if not free_text:
                bad(
                    "phi_screen",
                    "only free text (notes, or text without a validation) is "
                    "screened; remove phi_screen",
                )
            else:
                phi_screen = value

        if kind == "descriptive":
            for key in ("required", "identifier"):
                if raw.get(key):
                    bad(key, f"a descriptive field holds no data, so it cannot be {key}")
        if kind == "calc" and required:
            bad("required", "a calc field is computed, so it cannot be required")
        if identifier and required:
            bad("required", "an identifier field is never stored, so it cannot be required")
        if identifier and kind in {"calc", "descriptive"}:
            bad("identifier", f"a {kind} field cannot be an identifier")

        try:
            return Field(
                name=name,
                type=kind,
                label=label,
                section=section,
                note=note,
                validation=validation,
                min=minimum,
                max=maximum,
                pattern=pattern,
                pattern_message=pattern_message,
                required=required,
                identifier=identifier,
                show_if=show_if,
                calc=calc,
                choices=choices,
                slider=slider,
                matrix_group=matrix_group,
                alignment=alignment,
                annotations=annotations,
                renamed_from=renamed_from,
                limits=limits,
                phi_screen=phi_screen,
                annotation=annotation,
                ontology=ontology,
            )
        except (logic.LogicSyntaxError, re.error):
            # Already reported above; the field is left out of the cross-field checks.
            return None

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

    def bounds(
        self,
        raw: Mapping[str, Any],
        path: str,
        kind: str,
        info: Validation | None,
        field: str | None,
    ) -> tuple[Bound | None, Bound | None]:
        given = {key: raw.get(key) for key in ("min", "max") if raw.get(key) is not None}
        if not given:
            return None, None
        result: dict[str, Bound | None] = {"min": None, "max": None}
        if kind == "slider":
            for key, value in given.items():
                if isinstance(value, bool) or not isinstance(value, int):
                    self.problem(
                        f"{path}.{key}",
                        f"a slider's {key} must be a whole number; found {value!r}",
                        field,
                    )
                else:
                    result[key] = value
            low = result["min"] if result["min"] is not None else 0
            high = result["max"] if result["max"] is not None else 100
            if isinstance(low, int) and isinstance(high, int) and low >= high:
                self.problem(
                    f"{path}.max",
                    f"a slider's range must run upwards; {low} to {high} does not",
                    field,
                )
            return result["min"], result["max"]
        if kind != "text" or info is None or not info.has_bounds:
            for key in given:
                self.problem(
                    f"{path}.{key}",
                    f"{key} needs a text field with an integer, "
                    "number, date, datetime or time validation",
                    field,
                )
            return None, None
        parsed: dict[str, object] = {}
        for key, value in given.items():
            if isinstance(value, str) and PIPED_BOUND.fullmatch(value.strip()):
                result[key] = value.strip()  # checked against its field in piped_limits
                continue
            bound, shown = self.bound(value, info)
            if bound is None:
                self.problem(
                    f"{path}.{key}",
                    f"{key} {value!r} does not suit validation '{info.name}'; write {shown}",
                    field,
                )
                continue
            result[key] = bound
            parsed[key] = _parse_bound(info, bound)
        if _out_of_order(parsed.get("min"), parsed.get("max")):
            self.problem(
                f"{path}.max", f"max {result['max']!r} is below min {result['min']!r}", field
            )
        return result["min"], result["max"]

    @staticmethod
    def bound(value: object, info: Validation) -> tuple[Bound | None, str]:
        if info.family == "integer":
            whole = isinstance(value, int | float) and not isinstance(value, bool)
            if whole and float(value).is_integer():  # type: ignore[arg-type]
                return int(value), "a whole number"  # type: ignore[call-overload]
            return None, "a whole number"
        if info.family == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, "a number"
            return (int(value) if float(value).is_integer() else value), "a number"
        if isinstance(value, str) and value.strip().lower() in {"today", "now"}:
            return value.strip().lower(), ""
        if info.family == "date":
            day = parse_date(value)
            return (day.isoformat() if day else None), "a date as YYYY-MM-DD, or today"
        if info.family == "datetime":
            moment = parse_datetime(value, seconds=info.seconds)
            fmt = "%Y-%m-%d %H:%M:%S" if info.seconds else "%Y-%m-%d %H:%M"
            shown = "YYYY-MM-DD HH:MM" + (":SS" if info.seconds else "") + ", or now"
            return (moment.strftime(fmt) if moment else None), shown
        time = parse_time(value, info.time_format)
        return time, f"a time as {info.time_format.upper()}"

    def choices(self, raw: object, path: str, kind: str, field: str | None) -> tuple[Choice, ...]:
        if kind not in CHOICE_TYPES:
            if raw is not None:
                implicit = " (its choices 1 and 0 are implicit)" if kind in IMPLICIT_CHOICES else ""
                self.problem(path, f"a {kind} field takes no choices{implicit}", field)
            return ()
        if not isinstance(raw, list) or not raw:
            self.problem(
                path, f"a {kind} field needs a list of choices, each with code and label", field
            )
            return ()
        choices: list[Choice] = []
        seen: dict[str, int] = {}
        columns: dict[str, int] = {}
        for index, item in enumerate(raw):
            item_path = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                self.problem(item_path, "must be a mapping with code and label", field)
                continue
            self.unknown_keys(item, ("code", "label", "annotations"), item_path, "a choice", field)
            code = self.code(item.get("code"), f"{item_path}.code", field)
            label = self.text(item.get("label"), f"{item_path}.label", required=True, field=field)
            if "|" in label or "\n" in label:
                self.problem(
                    f"{item_path}.label",
                    "a choice label cannot contain '|' or a line "
                    "break: a REDCap dictionary could not hold it; write '/' or 'or'",
                    field,
                )
            if code in seen:
                self.problem(
                    f"{item_path}.code",
                    f"code '{code}' is already used by choices[{seen[code]}]; codes must be unique",
                    field,
                )
            seen.setdefault(code, index)
            if kind == "checkbox":
                column = checkbox_column("", code)
                if column in columns and seen[code] == index:
                    self.problem(
                        f"{item_path}.code",
                        f"code '{code}' and choices"
                        f"[{columns[column]}] export to the same column "
                        f"(field{column}); change one of them",
                        field,
                    )
                columns.setdefault(column, index)
            annotations = self.annotations(
                item.get("annotations"), f"{item_path}.annotations", field
            )
            choices.append(Choice(code, label, annotations))
        return tuple(choices)

    def slider(self, raw: object, path: str, kind: str, field: str | None) -> Slider | None:
        if raw is None:
            return Slider() if kind == "slider" else None
        if kind != "slider":
            self.problem(path, "only slider fields take slider labels", field)
            return None
        if not isinstance(raw, Mapping):
            self.problem(path, "must be a mapping with left, middle, right", field)
            return Slider()
        self.unknown_keys(raw, ("left", "middle", "right", "show_number"), path, "a slider", field)
        labels = []
        for key in ("left", "middle", "right"):
            value = raw.get(key)
            labels.append(self.text(value, f"{path}.{key}", field=field))
            if isinstance(value, str) and "|" in value:
                self.problem(f"{path}.{key}", "a slider label cannot contain '|'", field)
        show = self.flag(raw.get("show_number", False), f"{path}.show_number", field)
        return Slider(labels[0], labels[1], labels[2], show)

    def annotations(self, raw: object, path: str, field: str | None) -> tuple[Annotation, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem(path, "must be a list of {system, code, label} entries", field)
            return ()
        result = []
        for index, item in enumerate(raw):
            item_path = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                self.problem(item_path, "must be a mapping with system, code and label", field)
                continue
            self.unknown_keys(item, ("system", "code", "label"), item_path, "an annotation", field)
            system = str(item.get("system"))
            code = item.get("code")
            label = self.text(item.get("label"), f"{item_path}.label", field=field)
            if system not in ANNOTATION_SYSTEMS:
                self.problem(
                    f"{item_path}.system",
                    f"unknown system {system!r}; use one of {', '.join(ANNOTATION_SYSTEMS)}",
                    field,
                )
                continue
            shape, shown = ANNOTATION_SYSTEMS[system]
            if not isinstance(code, str) or not shape.fullmatch(code):
                self.problem(
                    f"{item_path}.code", f"{code!r} is not a {system} code; write {shown}", field
                )
                continue
            result.append(Annotation(system, code, label))
        return tuple(result)

    def annotation(
        self,
        raw: object,
        path: str,
        kind: str,
        validation: str,
        choices: tuple[Choice, ...],
        field: str | None,
    ) -> str:
        text = self.text(raw, path, field=field)
        if not text:
            return ""
        own = sorted({t.name for t in tokens(text) if t.name in REGISTRY_TAGS})
        if own:
            self.problem(
                path,
                f"@{', @'.join(own)} belong{'s' if len(own) == 1 else ''} in the "
                "schema's own keys (annotations, pattern, renamed_from, limits, "
                "phi_screen, checks), not in the annotation text",
                field,
            )
        tags, problems = parse_action_tags(text)
        for message in problems:
            self.problem(path, message, field)
        if tags.calctext:
            if kind != "text" or validation:
                self.problem(
                    path, "@CALCTEXT computes the value of a text field without a validation", field
                )
            else:
                try:
                    logic.compile_logic(tags.calctext)
                except logic.LogicSyntaxError as error:
                    self.problem(
                        path,
                        f"@CALCTEXT: {error.message} (at character "
                        f"{error.position + 1} of {tags.calctext!r})",
                        field,
                    )
        seen: set[str] = set()
        # The tags inside @IF branches obey the same rules as those written outside.
        for part in tags.every():
            for message in self.tag_kinds(part, kind, choices):
                if message not in seen:
                    seen.add(message)
                    self.problem(path, message, field)
        return text

    @staticmethod
    def tag_kinds(tags: ActionTags, kind: str, choices: tuple[Choice, ...]) -> Iterator[str]:
        for name, value in (("CHARLIMIT", tags.charlimit), ("WORDLIMIT", tags.wordlimit)):
            if value is not None and kind not in {"text", "notes"}:
                yield f"@{name} applies to text and notes fields, not {kind}"
        if (tags.none_of_the_above or tags.maxchecked is not None) and kind != "checkbox":
            yield f"@NONEOFTHEABOVE and @MAXCHECKED apply to checkbox fields, not {kind}"
        elif tags.none_of_the_above:
            codes = {choice.code for choice in choices}
            unknown = [code for code in tags.none_of_the_above if code not in codes]
            if unknown:
                yield (
                    f"@NONEOFTHEABOVE names {', '.join(unknown)}, which "
                    f"{'is not a code' if len(unknown) == 1 else 'are not codes'} "
                    f"of this checkbox; its codes are {', '.join(c.code for c in choices)}"
                )
        if tags.maxchoice:
            codes = {choice.code for choice in choices} or (
                {"1", "0"} if kind in {"yesno", "truefalse"} else set()
            )
            if not codes or kind in {"calc", "slider"}:
                yield f"@MAXCHOICE applies to fields with choices, not {kind}"
            else:
                unknown = [code for code, _ in tags.maxchoice if code not in codes]
                if unknown:
                    yield (
                        f"@MAXCHOICE names {', '.join(unknown)}, which "
                        f"{'is not a code' if len(unknown) == 1 else 'are not codes'} of "
                        f"this field; its codes are {', '.join(sorted(codes))}"
                    )

    def limits(
        self, raw: object, path: str, kind: str, info: Validation | None, field: str | None
    ) -> Limits | None:
        if raw is None:
            return None
        numeric = kind in {"calc", "slider"} or (
            info is not None and info.family in {"integer", "number"}
        )
        if not numeric:
            self.problem(
                path, "limits apply to numeric fields only (integer, number, calc, slider)", field
            )
            return None
        if not isinstance(raw, Mapping):
            self.problem(path, "must be a mapping with min and/or max", field)
            return None
        self.unknown_keys(raw, ("min", "max"), path, "limits", field)
        values: dict[str, int | float | None] = {}
        for key in ("min", "max"):
            value = raw.get(key)
            if value is None:
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int | float):
                self.problem(f"{path}.{key}", f"must be a number; found {value!r}", field)
                values[key] = None
            else:
                values[key] = int(value) if float(value).is_integer() else value
        low, high = values["min"], values["max"]
        if low is None and high is None:
            self.problem(path, "give min, max or both", field)
            return None
        if low is not None and high is not None and low > high:
            self.problem(f"{path}.max", f"max {high} is below min {low}", field)
        return Limits(low, high)

    # -- cross-field checks ----------------------------------------------------------------

    def reference_problems(
        self, node: Node, fields: Mapping[str, tuple[int, Field]], owner: str | None
    ) -> list[str]:
        messages = []
        for ref in logic.reference_nodes(node):
            if isinstance(ref, logic.SmartVariable):
                messages.append(
                    f"[{ref.name}] is a smart variable, which a form's logic cannot "
                    "use: it has no value while the form is being filled in"
                )
                continue
            shown = ref.field if ref.code is None else f"{ref.field}({ref.code})"
            if ref.qualified:
                messages.append(
                    f"[{shown}] is read from another event or instance, which a "
                    "form's logic cannot do; refer to fields of this form only"
                )
                continue
            target = fields.get(ref.field)
            if target is None:
                message = self.reference_elsewhere(ref.field, ref.code, shown, fields)
                if message:
                    messages.append(message)
                continue
            if ref.field == owner:
                messages.append(f"[{shown}] refers to the field itself")
                continue
            message = _reference_kind_problem(target[1], ref.code, shown)
            if message:
                messages.append(message)
        return list(dict.fromkeys(messages))

    def reference_elsewhere(
        self, name: str, code: str | None, shown: str, fields: Mapping[str, tuple[int, Field]]
    ) -> str:
        """What is wrong with a reference to a field this form does not have, or ''."""
        if self.published:
            return ""
        holders = (self.elsewhere or {}).get(name, [])
        if len(holders) == 1:
            form, f = holders[0]
            problem = _reference_kind_problem(f, code, shown)
            return f"{problem} (a field of form {form})" if problem else ""
        if holders:
            forms = ", ".join(sorted(form for form, _ in holders))
            return (
                f"[{shown}] is a field of several other forms ({forms}), so which one it "
                "reads is unclear; rename the field in all but one of them"
            )
        close = difflib.get_close_matches(name, list(fields), n=1)
        if not close and self.elsewhere:
            close = difflib.get_close_matches(name, list(self.elsewhere), n=1)
        hint = f"; did you mean [{close[0]}]?" if close else ""
        where = "this form" if self.elsewhere is None else "this form or of another form"
        return f"[{shown}] is not a field of {where}{hint}"

    def logic_references(
        self, fields: list[tuple[int, Field]], by_name: Mapping[str, tuple[int, Field]]
    ) -> None:
        for index, f in fields:
            for key, node in (
                ("show_if", f.show_if_logic),
                ("calc", f.calc_logic),
                ("annotation", f.calctext_logic),
            ):
                if node is None:
                    continue
                for message in self.reference_problems(node, by_name, f.name):
                    self.problem(f"fields[{index}].{key}", message, f.name)
            for conditional in _conditionals(f.tags):
                # REDCap's @IF may read smart variables (the user's role, the event) and other
                # events; here they have no value, so such a condition reads them as blank.
                for message in self.reference_problems(conditional.logic, by_name, None):
                    if "smart variable" not in message and "another event" not in message:
                        self.problem(f"fields[{index}].annotation", f"@IF: {message}", f.name)

    def piped_limits(
        self, fields: list[tuple[int, Field]], by_name: Mapping[str, tuple[int, Field]]
    ) -> None:
        """A limit piped from another field names a field of this form of the same kind."""
        for index, f in fields:
            for key, name in f.piped_bounds:
                path = f"fields[{index}].{key}"
                target = by_name.get(name)
                family = f.validation_info.family if f.validation_info else ""
                other = target[1].validation_info if target else None
                numeric = {"integer", "number"}
                if target is None:
                    close = difflib.get_close_matches(name, list(by_name), n=1)
                    hint = f"; did you mean [{close[0]}]?" if close else ""
                    self.problem(path, f"[{name}] is not a field of this form{hint}", f.name)
                elif name == f.name:
                    self.problem(path, f"[{name}] is the field itself", f.name)
                elif other is None or not (
                    other.family == family or {other.family, family} <= numeric
                ):
                    self.problem(
                        path,
                        f"[{name}] must be a field with a {family} validation "
                        f"to be {f.name}'s {key}",
                        f.name,
                    )

    def matrix_groups(self, fields: list[tuple[int, Field]]) -> None:
        first: dict[str, tuple[int, Field]] = {}
        last_group = ""
        closed: set[str] = set()
        for index, f in fields:
            group = f.matrix_group
            if last_group and group != last_group:
                closed.add(last_group)
            last_group = group
            if not group:
                continue
            if group in closed:
                self.problem(
                    f"fields[{index}].matrix_group",
                    f"the fields of matrix group '{group}' must follow one another",
                    f.name,
                )
            if group not in first:
                first[group] = (index, f)
                continue
            head = first[group][1]
            if f.type != head.type:
                self.problem(
                    f"fields[{index}].type",
                    f"matrix group '{group}' mixes {head.type} "
                    f"({head.name}) and {f.type}; a matrix shares one type",
                    f.name,
                )
            elif f.all_choices() != head.all_choices():
                self.problem(
                    f"fields[{index}].choices",
                    f"matrix group '{group}' needs the same "
                    f"choices on every field; they differ from {head.name}'s",
                    f.name,
                )

    def renames(self, fields: list[tuple[int, Field]], raw_retired: object) -> None:
        names = {f.name for _, f in fields}
        retired = set(raw_retired) if isinstance(raw_retired, list) else set()
        sources: dict[str, str] = {}
        for index, f in fields:
            source = f.renamed_from
            if not source or source == f.name:
                continue
            path = f"fields[{index}].renamed_from"
            if source in names:
                self.problem(
                    path,
                    f"'{source}' is still a field of this version; a renamed "
                    "field's old name cannot be reused in the same version",
                    f.name,
                )
            if source in sources:
                self.problem(
                    path,
                    f"'{source}' was already renamed to '{sources[source]}'; "
                    "a field can be renamed only once",
                    f.name,
                )
            if source in retired:
                self.problem(
                    path,
                    f"'{source}' is listed in retired; a field is either renamed or retired",
                    f.name,
                )
            sources.setdefault(source, f.name)

    def retired(self, raw: object, by_name: Mapping[str, tuple[int, Field]]) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem("retired", "must be a list of field names of the previous version")
            return ()
        result: list[str] = []
        for index, value in enumerate(raw):
            name = self.name(value, f"retired[{index}]", "retired field name")
            if name in by_name:
                self.problem(
                    f"retired[{index}]",
                    f"'{name}' is still a field of this version; "
                    "remove it from the fields or from retired",
                )
            elif name in result:
                self.problem(f"retired[{index}]", f"'{name}' is listed twice")
            elif name:
                result.append(name)
        return tuple(result)

    def checks(self, raw: object, by_name: Mapping[str, tuple[int, Field]]) -> tuple[Check, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem("checks", "must be a list of {field, rule, message} entries")
            return ()
        result: list[tuple[int, int, Check]] = []
        for index, item in enumerate(raw):
            path = f"checks[{index}]"
            if not isinstance(item, Mapping):
                self.problem(path, "must be a mapping with field, rule and message")
                continue
            self.unknown_keys(item, ("field", "rule", "message"), path, "a check")
            name = item.get("field")
            target = by_name.get(name) if isinstance(name, str) else None
            if target is None:
                self.problem(
                    f"{path}.field",
                    f"{name!r} is not a field of this form; a check's "
                    "message is shown on one of the form's fields",
                )
            elif not target[1].stores_data:
                self.problem(
                    f"{path}.field",
                    f"'{name}' holds no data (descriptive or "
                    "identifier); attach the check to a field that does",
                )
            message = self.text(item.get("message"), f"{path}.message", required=True)
            rule = self.logic_source(item.get("rule"), f"{path}.rule", None)
            if not rule:
                if item.get("rule") in (None, ""):
                    self.problem(f"{path}.rule", "is required: the logic that must be true")
                continue
            node = logic.compile_logic(rule)
            references = logic.field_references(node)
            for problem in self.reference_problems(node, by_name, None):
                self.problem(f"{path}.rule", problem)
            if target is not None:
                check = Check(target[1].name, rule, message, node, _base_names(references))
                result.append((target[0], index, check))
        # Checks are kept in the order of the fields they belong to, so that a form's checks
        # read like its fields and survive a trip through a REDCap dictionary (where each
        # check travels on its field's row) unchanged.
        result.sort(key=lambda item: (item[0], item[1]))
        return tuple(check for _, _, check in result)

    def dependency_cycles(self, fields: list[tuple[int, Field]]) -> None:
        ordered = tuple(f for _, f in fields)
        _, cycle = _evaluation_order(ordered)
        if cycle:
            names = " -> ".join([*cycle, cycle[0]])
            index = next(i for i, f in fields if f.name == cycle[0])
            self.problem(
                f"fields[{index}]",
                f"show_if and calc depend on each other in a circle ({names}); break the circle",
                cycle[0],
            )


def _reference_kind_problem(f: Field, code: str | None, shown: str) -> str:
    """What is wrong with reading field ``f`` as ``[shown]``, or ''."""
    base = f.name
    if f.type == "descriptive":
        return f"[{shown}] is a descriptive field, which holds no value"
    if code is not None and f.type != "checkbox":
        return f"[{shown}] names an option, but {base} is a {f.type} field; write [{base}]"
    if code is not None and code not in f.choice_codes:
        return (
            f"[{shown}]: '{code}' is not a choice code of {base}; its codes are "
            f"{', '.join(f.choice_codes)}"
        )
    if code is None and f.type == "checkbox":
        first = f.choice_codes[0] if f.choice_codes else "code"
        return f"[{shown}] is a checkbox; name an option, for example [{base}({first})]"
    return ""


def name_problem(name: str) -> str:
    """What is wrong with a REDCap field or form name, or '' when it is fine."""
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if not _NAME.fullmatch(name):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
        fits = bool(suggestion) and _NAME.fullmatch(suggestion) is not None
        hint = f" (for example '{suggestion}')" if fits else ""
        return f"must be {NAME_RULE}{hint}"
    if name.endswith("_"):
        return "must not end with an underscore"
    if "___" in name:
        return "must not contain '___' (REDCap uses it for checkbox columns)"
    return ""


def _evaluation_order(fields: Sequence[Field]) -> tuple[list[int], list[str]]:
    """Indexes of ``fields`` with dependencies first (stable), and a cycle if there is one.

    Fields whose show_if read one another (a value and its "don't know" box that hide each
    other) are not a cycle: each is decided on the answers as given, the first in form order
    first, as REDCap does. A circle through a calculation is, since it cannot be computed.
    """
    position = {f.name: index for index, f in enumerate(fields)}
    depends: list[set[int]] = []
    calc_depends: list[set[int]] = []
    for f in fields:
        own = position[f.name]
        calc = {position[name] for name in f.calc_fields if name in position} - {own}
        show = {position[name] for name in f.show_if_fields if name in position} - {own}
        depends.append(show | calc)
        calc_depends.append(calc)
    order, waiting = _topological(depends)
    stuck = {index for index, count in enumerate(waiting) if count > 0}
    if stuck:
        for group in _components(depends, stuck):
            if len(group) > 1 and not any(calc_depends[index] & group for index in group):
                for index in group:
                    depends[index] = depends[index] - group
        order, waiting = _topological(depends)
        stuck = {index for index, count in enumerate(waiting) if count > 0}
    if not stuck:
        return order, []
    # Walk the unresolved dependencies from one stuck field until a name repeats.
    start = min(stuck)
    path = [start]
    while True:
        following = min(need for need in depends[path[-1]] if need in stuck)
        if following in path:
            loop = path[path.index(following) :]
            return order + sorted(stuck), [fields[index].name for index in loop]
        path.append(following)


def _topological(depends: Sequence[set[int]]) -> tuple[list[int], list[int]]:
    """Kahn's order (smallest index first among the ready) and what each field still waits on."""
    dependants: list[list[int]] = [[] for _ in depends]
    waiting = [len(needs) for needs in depends]
    for index, needs in enumerate(depends):
        for need in needs:
            dependants[need].append(index)
    ready = [index for index, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for dependant in dependants[index]:
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(ready, dependant)
    return order, waiting


def _components(depends: Sequence[set[int]], nodes: set[int]) -> list[set[int]]:
    """Strongly connected components among ``nodes`` (Tarjan's algorithm, without recursion)."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups: list[set[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index_of:
            continue
        work = [(root, iter(sorted(depends[root] & nodes)))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(depends[child] & nodes))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


# --------------------------------------------------------------------------------------------
# Canonical data and hashing


def schema_to_dict(schema: FormSchema) -> dict[str, Any]:
    """The schema as canonical plain data: fixed key order, defaults left out.

    ``load_schema(schema_to_dict(s)) == s`` for every schema, and two files that say the same
    thing in different words (key order, explicit defaults, ``0.0`` for ``0``) give equal data.
    """
    out: dict[str, Any] = {
        "form": schema.form,
        "version": schema.version,
        "title": schema.title,
        "repeatable": schema.repeatable,
    }
    if schema.description:
        out["description"] = schema.description
    if schema.retired:
        out["retired"] = list(schema.retired)
    if schema.missing_codes:
        out["missing_codes"] = [{"code": m.code, "label": m.label} for m in schema.missing_codes]
    if schema.checks:
        out["checks"] = [
            {"field": c.field, "rule": c.rule, "message": c.message} for c in schema.checks
        ]
    if schema.record_id is not None:
        record: dict[str, str] = {"name": schema.record_id.name, "label": schema.record_id.label}
        if schema.record_id.form:
            record["form"] = schema.record_id.form
        out["record_id"] = record
    out["fields"] = [field_to_dict(f) for f in schema.fields]
    return out


def field_to_dict(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type, "label": f.label}
    for key in ("section", "note", "validation"):
        if getattr(f, key):
            out[key] = getattr(f, key)
    for key in ("min", "max"):
        if getattr(f, key) is not None:
            out[key] = getattr(f, key)
    for key in ("pattern", "pattern_message"):
        if getattr(f, key):
            out[key] = getattr(f, key)
    if f.required:
        out["required"] = True
    if f.identifier:
        out["identifier"] = True
    for key in ("show_if", "calc"):
        if getattr(f, key):
            out[key] = getattr(f, key)
    if f.choices:
        out["choices"] = [_choice_to_dict(choice) for choice in f.choices]
    if f.slider is not None and f.slider != Slider():
        slider: dict[str, Any] = {
            key: getattr(f.slider, key)
            for key in ("left", "middle", "right")
            if getattr(f.slider, key)
        }
        if f.slider.show_number:
            slider["show_number"] = True
        out["slider"] = slider
    for key in ("matrix_group", "alignment"):
        if getattr(f, key):
            out[key] = getattr(f, key)
    if f.annotations:
        out["annotations"] = [_annotation_to_dict(a) for a in f.annotations]
    if f.renamed_from:
        out["renamed_from"] = f.renamed_from
    if f.limits is not None:
        out["limits"] = {
            key: getattr(f.limits, key)
            for key in ("min", "max")
            if getattr(f.limits, key) is not None
        }
    if f.is_free_text and not f.phi_screen:
        out["phi_screen"] = False
    if f.annotation:
        out["annotation"] = f.annotation
    if f.ontology:
        out["ontology"] = f.ontology
    return out


def _choice_to_dict(choice: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"code": choice.code, "label": choice.label}
    if choice.annotations:
        out["annotations"] = [_annotation_to_dict(a) for a in choice.annotations]
    return out


def _annotation_to_dict(annotation: Annotation) -> dict[str, str]:
    out = {"system": annotation.system, "code": annotation.code}
    if annotation.label:
        out["label"] = annotation.label
    return out


def content_hash(data: Mapping[str, Any] | FormSchema) -> str:
    """SHA-256 (hex) of the canonical JSON of a schema document or a loaded schema.

    Pass the ``FormSchema`` (or ``schema_to_dict`` of it) to get a hash that changes only when
    the meaning changes; a raw mapping hashes its own content, key order aside.
    """
    plain = schema_to_dict(data) if isinstance(data, FormSchema) else data
    text = json.dumps(
        plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_default(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be part of a schema")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _conditionals(tags: ActionTags) -> Iterator[Conditional]:
    """Every @IF of a field, nested ones included."""
    for part in tags.every():
        yield from part.conditionals
