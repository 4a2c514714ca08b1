"""REDCap data dictionaries (the 18-column CSV) to and from form schemas.

Reading turns a dictionary into one schema document per instrument, in file order, with the
record-ID field (the first row) set aside. Everything a dictionary can say is either mapped onto
the schema or reported as a problem naming the row (as a spreadsheet numbers it, header = row 1)
and the column: nothing is dropped silently.

What the schema says and REDCap has no column for travels in the Field Annotation column as
action-tag-like text, one tag per line, so that dictionary -> schema -> dictionary and
schema -> dictionary -> schema are lossless:

    @HPO="HP:0001335|Bimanual synkinesia"        field annotation (also @ORPHA, @SNOMED, @LOINC)
    @CHOICE-HPO="1|HP:0001335|Bimanual synkinesia"  annotation of the choice with code 1
    @PATTERN="^c\\.[0-9]+"   @PATTERN-MESSAGE="Write the variant in HGVS notation."
    @RENAMED-FROM="wt_grade"   @LIMIT-MIN=0   @LIMIT-MAX=216   @NO-PHI-SCREEN
    @CHECK="[consent] = '1'"  @CHECK-MESSAGE="Consent must be Yes."   (a check on this field)
    @FORM-DESCRIPTION="..."  @MISSING-CODES="UNK, Unknown | NA, Not applicable"  @RETIRED="a b"
                                                   (form level: on the form's first field)

Values are in double quotes; a double quote inside a value is written twice, as in CSV.
Title and repeatable are not part of a REDCap dictionary: they come from the caller.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from registry.formengine.schema import (
    ANNOTATION_SYSTEMS,
    CHOICE_TYPES,
    FIELD_TYPES,
    IMPLICIT_CHOICES,
    LEGACY_TYPE_ALIASES,
    Field,
    FormSchema,
    Problem,
    SchemaError,
    load_schema,
    name_problem,
    schema_to_dict,
)
from registry.formengine.values import format_number, validation_for

__all__ = [
    "COLUMNS",
    "METADATA_KEYS",
    "DictionaryError",
    "DictionaryImport",
    "DictionaryProblem",
    "metadata_rows",
    "read_dictionary",
    "write_dictionary",
]

COLUMNS: Final[tuple[str, ...]] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
METADATA_KEYS: Final[tuple[str, ...]] = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)
_HEADER_OF: Final = dict(zip(METADATA_KEYS, COLUMNS, strict=True))

# Old REDCap names for validations that mean the same as today's.
_LEGACY_VALIDATIONS: Final = {
    "int": "integer",
    "float": "number",
    "date": "date_ymd",
    "datetime": "datetime_ymd",
    "datetime_seconds": "datetime_seconds_ymd",
}
_CURLY: Final = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'"}
)
_TAG_NAME = re.compile(r"@([A-Za-z][A-Za-z0-9_-]*)")
_FORM_TAGS: Final = ("FORM-DESCRIPTION", "MISSING-CODES", "RETIRED")
_PIPING = re.compile(r"\[[^\]]*\]")

# Where a schema problem shows in the dictionary: schema key -> metadata key.
_COLUMN_OF_KEY: Final = {
    "name": "field_name",
    "type": "field_type",
    "label": "field_label",
    "section": "section_header",
    "note": "field_note",
    "validation": "text_validation_type_or_show_slider_number",
    "min": "text_validation_min",
    "max": "text_validation_max",
    "identifier": "identifier",
    "required": "required_field",
    "show_if": "branching_logic",
    "calc": "select_choices_or_calculations",
    "choices": "select_choices_or_calculations",
    "slider": "select_choices_or_calculations",
    "matrix_group": "matrix_group_name",
    "alignment": "custom_alignment",
}


@dataclass(frozen=True, slots=True)
class DictionaryProblem:
    """Something in a dictionary the registry cannot take, where it is, and what to do."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.message}"


class DictionaryError(ValueError):
    """A dictionary was refused; ``problems`` lists every problem found, in row order."""

    def __init__(self, problems: Sequence[DictionaryProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, _column_index(p.column)))
        count = len(self.problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {count - 5} more)" if count > 5 else ""
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the data dictionary: "
                         f"{shown}{more}")


@dataclass(frozen=True)
class DictionaryImport:
    """A dictionary read into schemas: one per instrument, in file order."""

    record_id_field: str
    data: tuple[dict[str, Any], ...]
    """Canonical schema documents (``schema_to_dict``), ready to write as
    ``forms/<form>/v<N>.yaml``."""
    schemas: tuple[FormSchema, ...]
    record_id_label: str = "Record ID"

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(schema.form for schema in self.schemas)


def _column_index(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else -1


# --------------------------------------------------------------------------------------------
# Reading


def read_dictionary(
    text: str,
    *,
    repeatable_forms: Collection[str] = (),
    titles: Mapping[str, str] | None = None,
    version: int = 1,
) -> DictionaryImport:
    """Read a REDCap data dictionary; ``DictionaryError`` names the row and column of problems.

    ``repeatable_forms`` and ``titles`` supply what a dictionary does not hold; a form's title
    defaults to its name in Title Case. Every schema gets ``version``.
    """
    return _Reader(text, repeatable_forms, titles or {}, version).read()


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_CELL: Final = re.compile(r'"[^"]*(?:""[^"]*)*"|[^,\r\n]*')


def _long_cell(text: str, start: int) -> int | None:
    """The column of the first cell longer than the csv module reads, in the row at `start`."""
    position, index = start, 0
    while True:
        match = _CELL.match(text, position)
        if match is None:
            return None
        if len(match.group()) > csv.field_size_limit():
            return index
        position = match.end()
        if position >= len(text) or text[position] != ",":
            return None
        position += 1
        index += 1


@dataclass
class _FormRows:
    name: str
    first_row: int
    fields: list[dict[str, Any]]
    rows: list[int]
    form_tags: dict[str, Any]
    checks: list[dict[str, str]]
    check_rows: list[int]


class _Reader:
    def __init__(self, text: str, repeatable: Collection[str], titles: Mapping[str, str],
                 version: int) -> None:
        self.text = text.lstrip("\ufeff")
        self.repeatable = set(repeatable)
        self.titles = titles
        self.version = version
        self.problems: list[DictionaryProblem] = []

    def problem(self, row: int, key: str, message: str) -> None:
        self.problems.append(DictionaryProblem(row, _HEADER_OF.get(key, key), message))

    def rows(self) -> list[list[str]]:
        """The cells, row by row; a cell too long to read, a NUL or a lone surrogate is a
        problem of its row and column, and nothing is read further."""
        consumed = 0

        def lines() -> Iterator[str]:
            nonlocal consumed
            for line in io.StringIO(self.text, newline=""):
                consumed += len(line)
                yield line

        rows: list[list[str]] = []
        start = 0
        try:
            for cells in csv.reader(lines()):
                rows.append(cells)
                start = consumed
        except csv.Error as error:
            column = _long_cell(self.text, start)
            where = "" if column is None or column >= len(METADATA_KEYS) else METADATA_KEYS[column]
            if column is None:
                message = f"cannot be read as CSV ({error})"
            else:
                message = (f"has a cell of more than {csv.field_size_limit():,} characters; no "
                           "cell of a data dictionary is that long")
            self.problem(len(rows) + 1, where, message)
            raise DictionaryError(self.problems) from None
        for number, cells in enumerate(rows, start=1):
            for index, cell in enumerate(cells):
                bad = ("a NUL character (\\0)" if "\x00" in cell
                       else "a lone surrogate, which is not text" if _SURROGATE.search(cell)
                       else None)
                if bad:
                    key = METADATA_KEYS[index] if index < len(METADATA_KEYS) else ""
                    self.problem(number, key, f"contains {bad}; remove it")
        if self.problems:
            raise DictionaryError(self.problems)
        return rows

    def read(self) -> DictionaryImport:
        rows = self.rows()
        if not rows:
            raise DictionaryError([DictionaryProblem(1, "", "the file is empty; a data "
                                                     "dictionary starts with its header row")])
        width = self.header(rows[0])
        record_id = ""
        record_label = "Record ID"
        forms: list[_FormRows] = []
        by_form: dict[str, _FormRows] = {}
        seen_fields: dict[str, int] = {}
        for index, cells in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width:
                extra = [cell for cell in cells[width:] if cell.strip()]
                if extra:
                    self.problem(index, "", f"has {len(cells)} cells but the header has {width} "
                                 "columns; a cell with a comma must be in double quotes")
            present = cells[:width]
            cell = dict(zip(METADATA_KEYS, present + [""] * (len(METADATA_KEYS) - len(present)),
                            strict=True))
            name = cell["field_name"].strip()
            form = cell["form_name"].strip()
            if name in seen_fields:
                self.problem(index, "field_name", f"'{name}' is already defined in row "
                             f"{seen_fields[name]}; field names are unique across a project")
                continue
            if name:
                seen_fields[name] = index
            problem = name_problem(form) if form else "is blank"
            if problem:
                self.problem(index, "form_name", f"form name '{form}' {problem}")
                continue
            if not record_id:
                record_id = name or "record_id"
                record_label = cell["field_label"].strip() or record_label
                self.record_id_row(index, cell)
                by_form[form] = _FormRows(form, index, [], [], {}, [], [])
                forms.append(by_form[form])
                continue
            group = by_form.get(form)
            if group is None:
                group = by_form[form] = _FormRows(form, index, [], [], {}, [], [])
                forms.append(group)
            elif group is not forms[-1]:
                self.problem(index, "form_name", f"the rows of form '{form}' must follow one "
                             f"another; it already ended before row {index}")
            self.field_row(index, cell, group)
        schemas = self.build(forms)
        if self.problems:
            raise DictionaryError(self.problems)
        return DictionaryImport(
            record_id_field=record_id,
            data=tuple(schema_to_dict(schema) for schema in schemas),
            schemas=tuple(schemas),
            record_id_label=record_label,
        )

    def header(self, header: list[str]) -> int:
        cells = [" ".join(cell.lstrip("\ufeff").split()) for cell in header]
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > len(COLUMNS):
            self.problem(1, "", f"has {len(cells)} columns; a REDCap data dictionary has "
                         f"{len(COLUMNS)}")
        for index, cell in enumerate(cells[: len(COLUMNS)]):
            if cell.lower() != COLUMNS[index].lower():
                self.problem(1, COLUMNS[index], f"column {index + 1} is '{cell}'; a REDCap data "
                             f"dictionary has '{COLUMNS[index]}' there")
        if len(cells) < 12 and not self.problems:
            self.problem(1, "", f"has only {len(cells)} columns; a REDCap data dictionary has "
                         f"{len(COLUMNS)}, from '{COLUMNS[0]}' to '{COLUMNS[-1]}'")
        if self.problems:
            raise DictionaryError(self.problems)
        return min(len(cells), len(COLUMNS))

    def record_id_row(self, row: int, cell: Mapping[str, str]) -> None:
        name = cell["field_name"].strip()
        problem = name_problem(name) if name else "is blank"
        if problem:
            self.problem(row, "field_name", f"the record ID field's name '{name}' {problem}")
        if cell["field_type"].strip().lower() != "text":
            self.problem(row, "field_type", "the first field is the record ID and must be of type "
                         "text")

    def field_row(self, row: int, cell: Mapping[str, str], group: _FormRows) -> None:
        name = cell["field_name"].strip()
        kind = cell["field_type"].strip().lower()
        kind = LEGACY_TYPE_ALIASES.get(kind, kind)
        # A type the registry refuses is reported once; its other cells are not judged as text.
        refused = kind not in FIELD_TYPES
        if kind == "sql":
            self.problem(row, "field_type", "sql fields run SQL against the REDCap database and "
                         "are not supported; make it a dropdown with its choices written out")
            kind = "text"
        elif kind == "advcheckbox":
            self.problem(row, "field_type", "advcheckbox is not supported; use yesno for a single "
                         "tick box or checkbox for several options")
            kind = "text"
        elif kind not in FIELD_TYPES:
            self.problem(row, "field_type", f"unknown field type '{kind}'; use one of "
                         f"{', '.join(FIELD_TYPES)}")
            kind = "text"
        field: dict[str, Any] = {"name": name, "type": kind,
                                 "label": cell["field_label"].strip()}
        for key, source in (("section", "section_header"), ("note", "field_note"),
                            ("alignment", "custom_alignment"),
                            ("matrix_group", "matrix_group_name")):
            value = cell[source].strip()
            if value:
                field[key] = value
        for key, source in (("identifier", "identifier"), ("required", "required_field")):
            if self.flag(row, source, cell[source]):
                field[key] = True
        if self.flag(row, "matrix_ranking", cell["matrix_ranking"]):
            self.problem(row, "matrix_ranking", "matrix ranking is not supported; leave it "
                         "blank")
        if cell["question_number"].strip():
            self.problem(row, "question_number", "question numbers belong to REDCap surveys, "
                         "which the registry does not run; leave it blank or put the number in "
                         "the label")
        show_if = _logic_text(cell["branching_logic"])
        if show_if:
            field["show_if"] = show_if
        if not refused:
            self.choices_cell(row, cell["select_choices_or_calculations"], kind, field)
            self.validation_cells(row, cell, kind, field)
        self.annotation_cell(row, cell["field_annotation"], field, group)
        group.fields.append(field)
        group.rows.append(row)

    def flag(self, row: int, key: str, value: str) -> bool:
        text = value.strip().lower()
        if text in {"", "n"}:
            return False
        if text == "y":
            return True
        self.problem(row, key, f"must be y or blank; found '{value.strip()}'")
        return False

    def choices_cell(self, row: int, text: str, kind: str, field: dict[str, Any]) -> None:
        text = text.strip()
        key = "select_choices_or_calculations"
        if kind in CHOICE_TYPES:
            choices = []
            for item in re.split(r"\s*[|\n]\s*", text):
                item = item.strip()
                if not item:
                    continue
                code, comma, label = item.partition(",")
                choices.append({"code": code.strip(), "label": (label if comma else code).strip()})
            if choices:
                field["choices"] = choices
        elif kind == "calc":
            field["calc"] = _logic_text(text)
        elif kind == "slider":
            if text:
                labels = [part.strip() for part in text.split("|")]
                if len(labels) > 3:
                    self.problem(row, key, "a slider has at most three labels (left | middle | "
                                 "right)")
                if len(labels) == 2:
                    labels = [labels[0], "", labels[1]]
                labels += [""] * (3 - len(labels))
                field["slider"] = {
                    side: label for side, label in zip(("left", "middle", "right"), labels,
                                                       strict=False) if label
                }
        elif text:
            if kind in IMPLICIT_CHOICES and _same_choices(text, IMPLICIT_CHOICES[kind]):
                return
            self.problem(row, key, f"a {kind} field takes no choices or calculation; leave it "
                         "blank")

    def validation_cells(self, row: int, cell: Mapping[str, str], kind: str,
                         field: dict[str, Any]) -> None:
        validation = cell["text_validation_type_or_show_slider_number"].strip()
        validation = _LEGACY_VALIDATIONS.get(validation, validation)
        if kind == "slider":
            if validation == "number":
                field.setdefault("slider", {})["show_number"] = True
            elif validation:
                self.problem(row, "text_validation_type_or_show_slider_number", "a slider takes "
                             "only 'number' here (to show the chosen value)")
        elif validation:
            field["validation"] = validation
        info = validation_for(validation) if validation and kind != "slider" else None
        for key, source in (("min", "text_validation_min"), ("max", "text_validation_max")):
            raw = cell[source].strip()
            if not raw:
                continue
            if _PIPING.search(raw):
                self.problem(row, source, f"'{raw}' takes its limit from another field or a smart "
                             "variable, which is not supported; write a fixed value")
                continue
            field[key] = _typed_bound(raw, "integer" if kind == "slider" else
                                      (info.family if info else ""))

    def annotation_cell(self, row: int, text: str, field: dict[str, Any],
                        group: _FormRows) -> None:
        key = "field_annotation"
        pending_rule: str | None = None
        for name, value, bad in _tags(text):
            if bad:
                self.problem(row, key, bad)
                continue
            upper = name.upper()
            system = upper.removeprefix("CHOICE-")
            if upper in ANNOTATION_SYSTEMS or (upper.startswith("CHOICE-")
                                               and system in ANNOTATION_SYSTEMS):
                self.annotation_tag(row, upper, system, value, field)
            elif upper in {"PATTERN", "PATTERN-MESSAGE", "RENAMED-FROM"}:
                if value is None:
                    self.problem(row, key, f"@{upper} needs a value in double quotes")
                else:
                    field[upper.lower().replace("-", "_")] = value
            elif upper in {"LIMIT-MIN", "LIMIT-MAX"}:
                number = _typed_bound(value or "", "number")
                if not isinstance(number, int | float):
                    self.problem(row, key, f"@{upper} needs a number; found {value!r}")
                else:
                    field.setdefault("limits", {})[upper[-3:].lower()] = number
            elif upper == "NO-PHI-SCREEN":
                field["phi_screen"] = False
            elif upper == "CHECK":
                if pending_rule is not None:
                    self.problem(row, key, "@CHECK must be followed by its @CHECK-MESSAGE")
                pending_rule = _logic_text(value or "")
            elif upper == "CHECK-MESSAGE":
                if pending_rule is None:
                    self.problem(row, key, "@CHECK-MESSAGE must follow a @CHECK")
                    continue
                group.checks.append({"field": field["name"], "rule": pending_rule,
                                     "message": value or ""})
                group.check_rows.append(row)
                pending_rule = None
            elif upper in _FORM_TAGS:
                if group.fields:
                    self.problem(row, key, f"@{upper} describes the form and belongs on its first "
                                 "field")
                elif value is None:
                    self.problem(row, key, f"@{upper} needs a value in double quotes")
                else:
                    group.form_tags[upper] = (row, value)
            else:
                self.problem(row, key, f"action tag @{name} is not supported by the registry; "
                             "remove it (the registry honours only its own tags: @HPO, @ORPHA, "
                             "@SNOMED, @LOINC, @PATTERN, @RENAMED-FROM, @LIMIT-MIN/MAX, "
                             "@NO-PHI-SCREEN, @CHECK, @MISSING-CODES, ...)")
        if pending_rule is not None:
            self.problem(row, key, "@CHECK must be followed by its @CHECK-MESSAGE")

    def annotation_tag(self, row: int, tag: str, system: str, value: str | None,
                       field: dict[str, Any]) -> None:
        if value is None:
            self.problem(row, "field_annotation", f"@{tag} needs a value such as "
                         f"\"{'1|' if tag.startswith('CHOICE-') else ''}CODE|label\"")
            return
        if tag.startswith("CHOICE-"):
            choice_code, _, rest = value.partition("|")
            code, _, label = rest.partition("|")
            target = next((c for c in field.get("choices", []) if c["code"] == choice_code.strip()),
                          None)
            if target is None:
                self.problem(row, "field_annotation", f"@{tag} names choice '{choice_code}', which "
                             "this field does not have")
                return
            annotations = target.setdefault("annotations", [])
        else:
            code, _, label = value.partition("|")
            annotations = field.setdefault("annotations", [])
        entry = {"system": system, "code": code.strip()}
        if label.strip():
            entry["label"] = label.strip()
        annotations.append(entry)

    def build(self, forms: list[_FormRows]) -> list[FormSchema]:
        names = {group.name for group in forms}
        built = []
        for group in forms:
            # load_schema knows the form's own reserved names; the other forms' are known here.
            reserved = {
                f"{form}_{suffix}" for form in names - {group.name}
                for suffix in ("complete", "timestamp")
            }
            for field, row in zip(group.fields, group.rows, strict=True):
                if field["name"] in reserved:
                    self.problem(row, "field_name", f"'{field['name']}' is reserved by REDCap; "
                                 "choose another name")
            if not group.fields:
                continue
            data = self.schema_data(group)
            try:
                built.append(load_schema(data))
            except SchemaError as error:
                for problem in error.problems:
                    self.schema_problem(problem, group)
        return built

    def schema_data(self, group: _FormRows) -> dict[str, Any]:
        data: dict[str, Any] = {
            "form": group.name,
            "version": self.version,
            "title": self.titles.get(group.name) or group.name.replace("_", " ").title(),
            "repeatable": group.name in self.repeatable,
        }
        tags = group.form_tags
        if "FORM-DESCRIPTION" in tags:
            data["description"] = tags["FORM-DESCRIPTION"][1]
        if "RETIRED" in tags:
            data["retired"] = [name for name in re.split(r"[\s,]+", tags["RETIRED"][1]) if name]
        if "MISSING-CODES" in tags:
            data["missing_codes"] = [
                {"code": code.strip(), "label": (label if comma else code).strip()}
                for item in tags["MISSING-CODES"][1].split("|") if item.strip()
                for code, comma, label in [item.partition(",")]
            ]
        if group.checks:
            data["checks"] = group.checks
        data["fields"] = group.fields
        return data

    def schema_problem(self, problem: Problem, group: _FormRows) -> None:
        path = problem.path
        first = group.rows[0]
        match = re.match(r"fields\[(\d+)\](?:\.(\w+))?(\[\d+\])?(?:\.(\w+))?", path)
        if match:
            row = group.rows[int(match[1])]
            key = match[2] or "name"
            if key == "choices" and match[4] == "annotations":
                column = "field_annotation"
            elif key == "slider" and match[4] == "show_number":
                column = "text_validation_type_or_show_slider_number"
            else:
                column = _COLUMN_OF_KEY.get(key, "field_annotation")
            self.problem(row, column, _sentence(problem))
            return
        match = re.match(r"checks\[(\d+)\]", path)
        if match:
            self.problem(group.check_rows[int(match[1])], "field_annotation", _sentence(problem))
            return
        top = path.split(".")[0].split("[")[0]
        if top in {"missing_codes", "retired", "description"}:
            tag = {"missing_codes": "MISSING-CODES", "retired": "RETIRED",
                   "description": "FORM-DESCRIPTION"}[top]
            row = group.form_tags.get(tag, (first, ""))[0]
            self.problem(row, "field_annotation", f"@{tag}: {problem.message}")
            return
        self.problem(first, "form_name", f"{path}: {problem.message}")


def _sentence(problem: Problem) -> str:
    detail = problem.path.split(".", 1)[1] if "." in problem.path else ""
    return f"{detail}: {problem.message}" if detail and "[" in detail else problem.message


def _same_choices(text: str, implicit: tuple[tuple[str, str], ...]) -> bool:
    items = [item.partition(",") for item in text.split("|")]
    found = tuple((code.strip(), label.strip()) for code, _, label in items)
    return found == implicit


def _logic_text(text: str) -> str:
    # Word processors turn straight quotes into curly ones; in logic they can only be meant
    # as quotes.
    return text.translate(_CURLY).strip()


def _typed_bound(raw: str, family: str) -> int | float | str:
    text = raw.strip()
    if family in {"integer", "number"}:
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and family == "number" else number
    return text


def _tags(text: str) -> Iterator[tuple[str, str | None, str]]:
    """(name, value, problem) for each action tag; free text yields a problem."""
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        match = _TAG_NAME.match(text, position)
        if match is None:
            end = text.find("@", position + 1)
            end = length if end == -1 else end
            snippet = " ".join(text[position:end].split())
            yield "", None, (f"'{snippet[:60]}' is not an action tag; the registry keeps no notes "
                             "in the annotation: move it to the field note or remove it")
            position = end
            continue
        name = match[1]
        position = match.end()
        value: str | None = None
        if position < length and text[position] == "=":
            value, position, bad = _tag_value(text, position + 1)
            if bad:
                yield name, None, f"@{name}: {bad}"
                continue
        elif position < length and text[position] == "(":
            depth = 0
            start = position
            while position < length:
                if text[position] == "(":
                    depth += 1
                elif text[position] == ")":
                    depth -= 1
                    if depth == 0:
                        position += 1
                        break
                position += 1
            value = text[start:position]
        yield name, value, ""


def _tag_value(text: str, position: int) -> tuple[str, int, str]:
    if position >= len(text):
        return "", position, "has '=' but no value"
    quote = text[position]
    if quote not in "\"'":
        end = position
        while end < len(text) and not text[end].isspace():
            end += 1
        return text[position:end], end, ""
    pieces = []
    position += 1
    while position < len(text):
        char = text[position]
        if char == quote:
            if text.startswith(quote * 2, position):
                pieces.append(quote)
                position += 2
                continue
            return "".join(pieces), position + 1, ""
        pieces.append(char)
        position += 1
    return "", position, f"the value's closing {quote} is missing"


# --------------------------------------------------------------------------------------------
# Writing


def metadata_rows(
    schemas: Sequence[FormSchema],
    record_id_field: str = "record_id",
    *,
    record_id_label: str = "Record ID",
) -> list[dict[str, str]]:
    """The dictionary as REDCap API metadata: one dict per field, the record ID first."""
    if not schemas:
        return []
    clash = [s.form for s in schemas if record_id_field in s.fields_by_name]
    if clash:
        raise DictionaryError([DictionaryProblem(0, COLUMNS[0], f"the record ID field "
                                                 f"'{record_id_field}' is also a field of "
                                                 f"{', '.join(clash)}; choose another name")])
    rows = [_row(record_id_field, record_id_label, schemas[0].form)]
    for schema in schemas:
        checks: dict[str, list[tuple[str, str]]] = {}
        for check in schema.checks:
            checks.setdefault(check.field, []).append((check.rule, check.message))
        for index, f in enumerate(schema.fields):
            tags = _form_tags(schema) if index == 0 else []
            tags += _field_tags(f, checks.get(f.name, []))
            rows.append(_field_row(schema.form, f, "\n".join(tags)))
    return rows


def write_dictionary(
    schemas: Sequence[FormSchema],
    record_id_field: str = "record_id",
    *,
    record_id_label: str = "Record ID",
) -> str:
    """The schemas as a REDCap data dictionary CSV (header and the record-ID row first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in metadata_rows(schemas, record_id_field, record_id_label=record_id_label):
        writer.writerow([row[key] for key in METADATA_KEYS])
    return buffer.getvalue()


def _row(record_id_field: str, label: str, form: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_KEYS, "")
    row.update(field_name=record_id_field, form_name=form, field_type="text", field_label=label)
    return row


def _field_row(form: str, f: Field, annotation: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_KEYS, "")
    row["field_name"] = f.name
    row["form_name"] = form
    row["section_header"] = f.section
    row["field_type"] = f.type
    row["field_label"] = f.label
    if f.type in CHOICE_TYPES:
        row["select_choices_or_calculations"] = " | ".join(
            f"{choice.code}, {choice.label}" for choice in f.choices
        )
    elif f.type == "calc":
        row["select_choices_or_calculations"] = f.calc
    elif f.type == "slider" and f.slider is not None:
        labels = (f.slider.left, f.slider.middle, f.slider.right)
        if any(labels):
            row["select_choices_or_calculations"] = " | ".join(labels)
        if f.slider.show_number:
            row["text_validation_type_or_show_slider_number"] = "number"
    row["field_note"] = f.note
    if f.validation:
        row["text_validation_type_or_show_slider_number"] = f.validation
    row["text_validation_min"] = _bound_text(f.min)
    row["text_validation_max"] = _bound_text(f.max)
    row["identifier"] = "y" if f.identifier else ""
    row["branching_logic"] = f.show_if
    row["required_field"] = "y" if f.required else ""
    row["custom_alignment"] = f.alignment
    row["matrix_group_name"] = f.matrix_group
    row["field_annotation"] = annotation
    return row


def _bound_text(value: int | float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return format_number(value) if isinstance(value, float) else str(value)
    return value


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _form_tags(schema: FormSchema) -> list[str]:
    tags = []
    if schema.description:
        tags.append(f"@FORM-DESCRIPTION={_quote(schema.description)}")
    if schema.missing_codes:
        codes = " | ".join(f"{m.code}, {m.label}" for m in schema.missing_codes)
        tags.append(f"@MISSING-CODES={_quote(codes)}")
    if schema.retired:
        tags.append(f"@RETIRED={_quote(' '.join(schema.retired))}")
    return tags


def _field_tags(f: Field, checks: list[tuple[str, str]]) -> list[str]:
    tags = [f"@{a.system}={_quote(_joined(a.code, a.label))}" for a in f.annotations]
    for choice in f.choices:
        tags += [
            f"@CHOICE-{a.system}={_quote(choice.code + '|' + _joined(a.code, a.label))}"
            for a in choice.annotations
        ]
    if f.pattern:
        tags.append(f"@PATTERN={_quote(f.pattern)}")
    if f.pattern_message:
        tags.append(f"@PATTERN-MESSAGE={_quote(f.pattern_message)}")
    if f.renamed_from:
        tags.append(f"@RENAMED-FROM={_quote(f.renamed_from)}")
    if f.limits is not None:
        if f.limits.min is not None:
            tags.append(f"@LIMIT-MIN={_bound_text(f.limits.min)}")
        if f.limits.max is not None:
            tags.append(f"@LIMIT-MAX={_bound_text(f.limits.max)}")
    if f.is_free_text and not f.phi_screen:
        tags.append("@NO-PHI-SCREEN")
    for rule, message in checks:
        tags.append(f"@CHECK={_quote(rule)}")
        tags.append(f"@CHECK-MESSAGE={_quote(message)}")
    return tags


def _joined(code: str, label: str) -> str:
    return f"{code}|{label}" if label else code
