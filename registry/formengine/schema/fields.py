"""One field of a schema document, read key by key, and the list of a form's fields.

``read_field`` reads each concern of a field in a fixed order (its type, texts and flags,
validation, bounds, pattern, logic, choices, layout, rename, limits, annotation, ontology and
identifier screening, then the rules of what a field that holds no data may be), so problems
are always reported in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from registry.formengine import logic
from registry.formengine.values import Validation, validation_for

from .bounds import read_bounds, read_limits
from .choices import read_annotations, read_choices, read_slider
from .model import Field, MissingCode
from .reader import SchemaReader
from .tags import read_annotation
from .vocabulary import (
    ALIGNMENTS,
    FIELD_KEYS,
    FIELD_TYPES,
    LEGACY_TYPE_ALIASES,
    ONTOLOGY_NAME,
    REDCAP_RESERVED_NAMES,
)

__all__ = ["read_field", "read_fields"]


def read_fields(
    reader: SchemaReader, raw_fields: list[Any], form: str, missing_codes: tuple[MissingCode, ...]
) -> list[tuple[int, Field]]:
    """The fields that could be built, each with its index: names unique and not REDCap's,
    choice codes apart from the missing codes."""
    fields: list[tuple[int, Field]] = []
    seen: dict[str, int] = {}
    reserved = REDCAP_RESERVED_NAMES | {f"{form}_complete", f"{form}_timestamp"}
    missing = {code.code for code in missing_codes}
    for index, raw in enumerate(raw_fields):
        path = f"fields[{index}]"
        if not isinstance(raw, Mapping):
            reader.problem(path, "must be a mapping of field keys to values")
            continue
        built = read_field(reader, raw, path)
        if built is None:
            continue
        if built.name in seen:
            reader.problem(
                f"{path}.name",
                f"'{built.name}' is already the name of fields[{seen[built.name]}]; "
                "field names must be unique",
                built.name,
            )
        elif built.name in reserved:
            reader.problem(
                f"{path}.name",
                f"'{built.name}' is reserved by REDCap; choose another name",
                built.name,
            )
        seen.setdefault(built.name, index)
        clash = missing & set(built.choice_codes)
        if clash:
            reader.problem(
                f"{path}.choices",
                f"choice code(s) {', '.join(sorted(clash))} are also declared as missing "
                "codes; a value must mean one thing",
                built.name,
            )
        fields.append((index, built))
    return fields


class _Entry:
    """The mapping of one field being read, with its path and the name its problems go under."""

    def __init__(self, reader: SchemaReader, raw: Mapping[str, Any], path: str) -> None:
        self.reader = reader
        self.raw = raw
        self.path = path
        raw_name = raw.get("name")
        self.shown = raw_name if isinstance(raw_name, str) and raw_name else None

    def key(self, key: str) -> str:
        return f"{self.path}.{key}"

    def bad(self, key: str, message: str) -> None:
        self.reader.problem(self.key(key), message, self.shown)

    def text(self, key: str, *, required: bool = False) -> str:
        return self.reader.text(
            self.raw.get(key), self.key(key), required=required, field=self.shown
        )

    def flag(self, key: str) -> bool:
        return self.reader.flag(self.raw.get(key, False), self.key(key), self.shown)

    def name(self, key: str, what: str) -> str:
        return self.reader.name(self.raw.get(key), self.key(key), what, self.shown)


def read_field(reader: SchemaReader, raw: Mapping[str, Any], path: str) -> Field | None:
    """The field ``raw`` describes, or None when it cannot be built (its problems recorded)."""
    entry = _Entry(reader, raw, path)
    reader.unknown_keys(raw, FIELD_KEYS, path, "a field", entry.shown)
    name = entry.name("name", "field name")
    kind = _kind(entry)
    # REDCap allows a blank label on a descriptive field (an image or a spacer) and on the
    # rows of a matrix (the matrix header says it all).
    label_optional = kind == "descriptive" or raw.get("matrix_group") is not None
    label = entry.text("label", required=not label_optional)
    section = entry.text("section")
    note = entry.text("note")
    required = entry.flag("required")
    identifier = entry.flag("identifier")
    validation, info = _validation(entry, kind, identifier)
    if validation and info is None and kind == "text":
        minimum = maximum = None  # the unknown validation is the one problem to report
    else:
        minimum, maximum = read_bounds(reader, raw, path, kind, info, entry.shown)
    pattern, pattern_message = _pattern(entry, kind)
    show_if, calc = _logic(entry, kind)
    choices = read_choices(reader, raw.get("choices"), entry.key("choices"), kind, entry.shown)
    slider = read_slider(reader, raw.get("slider"), entry.key("slider"), kind, entry.shown)
    matrix_group = _matrix_group(entry, kind)
    alignment = _alignment(entry)
    annotations = read_annotations(
        reader, raw.get("annotations"), entry.key("annotations"), entry.shown
    )
    renamed_from = _renamed_from(entry, name)
    limits = read_limits(reader, raw.get("limits"), entry.key("limits"), kind, info, entry.shown)
    annotation = read_annotation(
        reader,
        raw.get("annotation"),
        entry.key("annotation"),
        kind,
        validation,
        choices,
        entry.shown,
    )
    ontology = _ontology(entry, kind, validation)
    phi_screen = _phi_screen(entry, kind, validation, ontology)
    _holds_no_data(entry, kind, required, identifier)
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


def _kind(entry: _Entry) -> str:
    """The field's type; an unusable one is reported and read as the nearest that works."""
    raw_kind = entry.raw.get("type")
    kind = raw_kind if isinstance(raw_kind, str) else ""
    if kind == "sql":
        entry.bad(
            "type",
            "type 'sql' is not supported: it runs SQL against the database. "
            "Use a dropdown with its choices written out",
        )
        return "text"
    if kind in LEGACY_TYPE_ALIASES:
        entry.bad("type", f"'{kind}' is REDCap's old name; write type: {LEGACY_TYPE_ALIASES[kind]}")
        return LEGACY_TYPE_ALIASES[kind]
    if kind not in FIELD_TYPES:
        entry.bad("type", f"unknown type {raw_kind!r}; use one of {', '.join(FIELD_TYPES)}")
        return "text"
    return kind


def _validation(entry: _Entry, kind: str, identifier: bool) -> tuple[str, Validation | None]:
    """The validation as written, and what it means when it is a text validation."""
    validation = entry.text("validation")
    if validation == "autocomplete":
        # REDCap's searchable dropdown: a way of showing the choices, nothing to check.
        if kind != "dropdown":
            entry.bad("validation", "autocomplete applies to dropdown fields only")
        return validation, None
    if validation and kind == "file":
        if validation != "signature":
            entry.bad("validation", "a file field takes only the validation 'signature'")
        elif not identifier:
            entry.bad(
                "validation",
                "a signature identifies the patient; mark the field "
                "identifier: true (it will not be stored) or remove it",
            )
        return validation, None
    if validation:
        return validation, _text_validation(entry, validation, kind, identifier)
    return validation, None


def _text_validation(
    entry: _Entry, validation: str, kind: str, identifier: bool
) -> Validation | None:
    info = validation_for(validation)
    if info is None:
        entry.bad(
            "validation",
            f"unknown validation '{validation}'; use one of integer, "
            "number, number_1dp..number_4dp, date_ymd, datetime_ymd, time, alpha_only "
            "(or an identifier validation such as email on an identifier field)",
        )
    elif kind == "slider":
        entry.bad(
            "validation",
            "a slider takes no validation; use slider.show_number to show the value",
        )
    elif kind != "text":
        entry.bad("validation", f"only text fields take a validation, not {kind} fields")
    elif info.family == "identifier" and not identifier:
        entry.bad(
            "validation",
            f"'{validation}' collects a direct identifier; it is allowed "
            "only on a field marked identifier: true (whose values are never stored)",
        )
    return info


def _pattern(entry: _Entry, kind: str) -> tuple[str, str]:
    """The pattern (blank when it does not compile) and its message."""
    pattern = entry.text("pattern")
    pattern_message = entry.text("pattern_message")
    if pattern:
        if kind != "text":
            entry.bad("pattern", "only text fields take a pattern")
        try:
            re.compile(pattern)
        except re.error as error:
            entry.bad("pattern", f"is not a valid regular expression: {error}")
            pattern = ""
    if pattern_message and not entry.raw.get("pattern"):
        entry.bad("pattern_message", "pattern_message needs a pattern")
    return pattern, pattern_message


def _logic(entry: _Entry, kind: str) -> tuple[str, str]:
    """show_if and calc, each blank when it does not compile."""
    reader, raw = entry.reader, entry.raw
    show_if = reader.logic_source(raw.get("show_if"), entry.key("show_if"), entry.shown)
    calc = reader.logic_source(raw.get("calc"), entry.key("calc"), entry.shown)
    if kind == "calc" and not calc and "calc" not in raw:
        entry.bad("calc", "a calc field needs its calculation in calc")
    if calc and kind != "calc":
        entry.bad("calc", "only calc fields take a calculation")
        calc = ""
    return show_if, calc


def _matrix_group(entry: _Entry, kind: str) -> str:
    if entry.raw.get("matrix_group") is None:
        return ""
    matrix_group = entry.name("matrix_group", "matrix group name")
    if kind not in {"radio", "checkbox"}:
        entry.bad("matrix_group", "only radio and checkbox fields can form a matrix")
    return matrix_group


def _alignment(entry: _Entry) -> str:
    alignment = entry.text("alignment")
    if alignment and alignment not in ALIGNMENTS:
        entry.bad("alignment", f"must be one of {', '.join(ALIGNMENTS)}; found '{alignment}'")
    return alignment


def _renamed_from(entry: _Entry, name: str) -> str:
    if entry.raw.get("renamed_from") is None:
        return ""
    renamed_from = entry.name("renamed_from", "renamed_from")
    if renamed_from and renamed_from == name:
        entry.bad(
            "renamed_from",
            "names the field itself; drop renamed_from when the name did not change",
        )
    return renamed_from


def _ontology(entry: _Entry, kind: str, validation: str) -> str:
    ontology = entry.text("ontology")
    if ontology:
        if not ONTOLOGY_NAME.fullmatch(ontology):
            entry.bad(
                "ontology",
                f"'{ontology}' is not an ontology's acronym; write letters, "
                "digits and '-' or '_', for example HP, ORDO, MONDO",
            )
        if kind != "text" or validation:
            entry.bad(
                "ontology", "an ontology term is the value of a text field without a validation"
            )
    return ontology


def _phi_screen(entry: _Entry, kind: str, validation: str, ontology: str) -> bool:
    """Whether values are screened for identifiers: free text is, unless the schema says no."""
    free_text = kind == "notes" or (kind == "text" and not validation and not ontology)
    if "phi_screen" not in entry.raw:
        return free_text
    value = entry.reader.flag(entry.raw.get("phi_screen"), entry.key("phi_screen"), entry.shown)
    if not free_text:
        entry.bad(
            "phi_screen",
            "only free text (notes, or text without a validation) is screened; remove phi_screen",
        )
        return free_text
    return value


def _holds_no_data(entry: _Entry, kind: str, required: bool, identifier: bool) -> None:
    """A field whose value is never entered or never stored cannot be required."""
    if kind == "descriptive":
        for key in ("required", "identifier"):
            if entry.raw.get(key):
                entry.bad(key, f"a descriptive field holds no data, so it cannot be {key}")
    if kind == "calc" and required:
        entry.bad("required", "a calc field is computed, so it cannot be required")
    if identifier and required:
        entry.bad("required", "an identifier field is never stored, so it cannot be required")
    if identifier and kind in {"calc", "descriptive"}:
        entry.bad("identifier", f"a {kind} field cannot be an identifier")
