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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from registry.formengine.actiontags import KEPT_ONLY, REGISTRY_TAGS, tokens
from registry.formengine.schema import (
    ANNOTATION_SYSTEMS,
    CHOICE_TYPES,
    FIELD_TYPES,
    IMPLICIT_CHOICES,
    LEGACY_TYPE_ALIASES,
    PIPED_BOUND,
    Field,
    FormSchema,
    Problem,
    RecordId,
    SchemaError,
    load_schemas,
    name_problem,
    schema_to_dict,
)
from registry.formengine.values import format_number, validation_for

__all__ = [
    "COLUMNS",
    "METADATA_KEYS",
    "DictionaryError",
    "DictionaryImport",
    "DictionaryNote",
    "DictionaryProblem",
    "decode_dictionary",
    "metadata_rows",
    "project_record_id",
    "read_dictionary",
    "read_metadata",
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
    "ontology": "select_choices_or_calculations",
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


@dataclass(frozen=True, slots=True)
class DictionaryNote:
    """Something the import changed or did not carry over, where it is, and why."""

    row: int
    column: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return (
            f"{where} ({self.field}): {self.message}" if self.field else f"{where}: {self.message}"
        )


class DictionaryError(ValueError):
    """A dictionary was refused; ``problems`` lists every problem found, in row order."""

    def __init__(self, problems: Sequence[DictionaryProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, _column_index(p.column)))
        count = len(self.problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {count - 5} more)" if count > 5 else ""
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the data dictionary: {shown}{more}"
        )


@dataclass(frozen=True)
class DictionaryImport:
    """A dictionary read into schemas: one per instrument, in file order."""

    record_id_field: str
    data: tuple[dict[str, Any], ...]
    """Canonical schema documents (``schema_to_dict``), ready to write as
    ``forms/<form>/v<N>.yaml``."""
    schemas: tuple[FormSchema, ...]
    record_id_label: str = "Record ID"
    notes: tuple[DictionaryNote, ...] = ()
    """The import report: every field not collected, every flag or cell not carried over."""
    record_id_form: str = ""
    """The instrument of the record-ID row (it may hold nothing else)."""

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(schema.form for schema in self.schemas)

    @property
    def not_collected(self) -> tuple[str, ...]:
        """The fields imported as not collected (never stored), in file order."""
        return tuple(f.name for schema in self.schemas for f in schema.fields if f.identifier)

    def report(self) -> str:
        """The import report as text, one line per note, in row order."""
        lines = [
            f"{len(self.schemas)} instrument(s), "
            f"{sum(len(s.fields) for s in self.schemas)} field(s) besides the record ID "
            f"'{self.record_id_field}'; {len(self.not_collected)} not collected."
        ]
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def _column_index(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else -1


# --------------------------------------------------------------------------------------------
# Reading


def read_dictionary(
    text: str | bytes,
    *,
    repeatable_forms: Collection[str] = (),
    titles: Mapping[str, str] | None = None,
    version: int = 1,
    keep_dates: bool = False,
    published: Iterable[FormSchema] = (),
) -> DictionaryImport:
    """Read a REDCap data dictionary; ``DictionaryError`` names the row and column of problems.

    ``text`` is the CSV as text, or as the file's bytes (UTF-8, with or without a byte-order
    mark). The header may be REDCap's display headers or the API's metadata keys.
    ``repeatable_forms`` and ``titles`` supply what a dictionary does not hold; a form's title
    defaults to its name in Title Case. Every schema gets ``version``. Calendar dates are not
    collected unless ``keep_dates`` (for dates that are not about the patient). Logic may read
    fields of the dictionary's other instruments, and of ``published`` (the latest versions of
    the registry's forms, for a dictionary that holds only some of them).
    ``DictionaryImport.notes`` says what the import changed.
    """
    if isinstance(text, bytes):
        text = decode_dictionary(text)
    return _Reader(
        text, repeatable_forms, titles or {}, version, keep_dates, tuple(published)
    ).read()


def read_metadata(
    rows: Sequence[Mapping[str, Any]],
    **options: Any,
) -> DictionaryImport:
    """Read the REDCap API's metadata (``content=metadata``: one mapping per field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(METADATA_KEYS)
    for row in rows:
        writer.writerow(
            ["" if row.get(key) is None else str(row.get(key)) for key in METADATA_KEYS]
        )
    return read_dictionary(buffer.getvalue(), **options)


def decode_dictionary(data: bytes) -> str:
    """The text of a dictionary file: UTF-8 (a byte-order mark is dropped), or a
    ``DictionaryError`` naming the first byte that is not UTF-8, its row and the likely
    encoding."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        row = data.count(b"\n", 0, error.start) + 1
        try:
            shown = bytes([byte]).decode("cp1252")
            likely = (
                f"it looks like Windows-1252 (cp1252), where 0x{byte:02X} is '{shown}', "
                "as Excel saves 'CSV' on Windows"
            )
        except UnicodeDecodeError:
            likely = "it is in another encoding"
        raise DictionaryError(
            [
                DictionaryProblem(
                    row,
                    "",
                    f"byte 0x{byte:02X} (byte {error.start + 1} of the file) is not UTF-8: "
                    f"{likely}; save the file as 'CSV UTF-8' and import it again",
                )
            ]
        ) from None


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
    def __init__(
        self,
        text: str,
        repeatable: Collection[str],
        titles: Mapping[str, str],
        version: int,
        keep_dates: bool = False,
        published: Sequence[FormSchema] = (),
    ) -> None:
        self.text = text.lstrip("\ufeff")
        self.published = published
        self.repeatable = set(repeatable)
        self.titles = titles
        self.version = version
        self.keep_dates = keep_dates
        self.problems: list[DictionaryProblem] = []
        self.notes: list[DictionaryNote] = []
        self.form_of: dict[str, str] = {}

    def problem(self, row: int, key: str, message: str) -> None:
        self.problems.append(DictionaryProblem(row, _HEADER_OF.get(key, key), message))

    def note(self, row: int, key: str, field: str, message: str) -> None:
        self.notes.append(DictionaryNote(row, _HEADER_OF.get(key, key), field, message))

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
                message = (
                    f"has a cell of more than {csv.field_size_limit():,} characters; no "
                    "cell of a data dictionary is that long"
                )
            self.problem(len(rows) + 1, where, message)
            raise DictionaryError(self.problems) from None
        for number, cells in enumerate(rows, start=1):
            for index, cell in enumerate(cells):
                bad = (
                    "a NUL character (\\0)"
                    if "\x00" in cell
                    else "a lone surrogate, which is not text"
                    if _SURROGATE.search(cell)
                    else None
                )
                if bad:
                    key = METADATA_KEYS[index] if index < len(METADATA_KEYS) else ""
                    self.problem(number, key, f"contains {bad}; remove it")
        if self.problems:
            raise DictionaryError(self.problems)
        return rows

    def read(self) -> DictionaryImport:
        rows = self.rows()
        if not rows:
            raise DictionaryError(
                [
                    DictionaryProblem(
                        1, "", "the file is empty; a data dictionary starts with its header row"
                    )
                ]
            )
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
                    self.problem(
                        index,
                        "",
                        f"has {len(cells)} cells but the header has {width} "
                        "columns; a cell with a comma must be in double quotes",
                    )
            present = cells[:width]
            cell = dict(
                zip(
                    METADATA_KEYS, present + [""] * (len(METADATA_KEYS) - len(present)), strict=True
                )
            )
            name = cell["field_name"].strip()
            form = cell["form_name"].strip()
            if name in seen_fields:
                self.problem(
                    index,
                    "field_name",
                    f"'{name}' is already defined in row "
                    f"{seen_fields[name]}; field names are unique across a project",
                )
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
                self.problem(
                    index,
                    "form_name",
                    f"the rows of form '{form}' must follow one "
                    f"another; it already ended before row {index}",
                )
            self.field_row(index, cell, group)
        record_form = forms[0].name if forms else ""
        if forms and not forms[0].fields:
            self.note(
                forms[0].first_row,
                "form_name",
                record_id,
                f"instrument '{record_form}' holds only the record ID; the registry's "
                "record ID is the patient's pseudonym, so it has no form of its own (an "
                "export puts the record ID back on it)",
            )
        self.form_of = {field["name"]: group.name for group in forms for field in group.fields}
        schemas = self.build(forms, (record_id, record_label, record_form))
        if self.problems:
            raise DictionaryError(self.problems)
        return DictionaryImport(
            record_id_field=record_id,
            data=tuple(schema_to_dict(schema) for schema in schemas),
            schemas=tuple(schemas),
            record_id_label=record_label,
            notes=tuple(sorted(self.notes, key=lambda n: (n.row, _column_index(n.column)))),
            record_id_form=record_form,
        )

    def header(self, header: list[str]) -> int:
        cells = [" ".join(cell.lstrip("\ufeff").split()) for cell in header]
        while cells and not cells[-1]:
            cells.pop()
        # The API's metadata (content=metadata, format=csv) names the same columns by key.
        cells = [
            COLUMNS[METADATA_KEYS.index(cell.lower())] if cell.lower() in METADATA_KEYS else cell
            for cell in cells
        ]
        if len(cells) > len(COLUMNS):
            self.problem(
                1, "", f"has {len(cells)} columns; a REDCap data dictionary has {len(COLUMNS)}"
            )
        for index, cell in enumerate(cells[: len(COLUMNS)]):
            if cell.lower() != COLUMNS[index].lower():
                self.problem(
                    1,
                    COLUMNS[index],
                    f"column {index + 1} is '{cell}'; a REDCap data "
                    f"dictionary has '{COLUMNS[index]}' there",
                )
        if len(cells) < 12 and not self.problems:
            self.problem(
                1,
                "",
                f"has only {len(cells)} columns; a REDCap data dictionary has "
                f"{len(COLUMNS)}, from '{COLUMNS[0]}' to '{COLUMNS[-1]}'",
            )
        if self.problems:
            raise DictionaryError(self.problems)
        return min(len(cells), len(COLUMNS))

    def record_id_row(self, row: int, cell: Mapping[str, str]) -> None:
        name = cell["field_name"].strip()
        problem = name_problem(name) if name else "is blank"
        if problem:
            self.problem(row, "field_name", f"the record ID field's name '{name}' {problem}")
        if cell["field_type"].strip().lower() != "text":
            self.problem(
                row, "field_type", "the first field is the record ID and must be of type text"
            )

    def field_row(self, row: int, cell: Mapping[str, str], group: _FormRows) -> None:
        name = cell["field_name"].strip()
        kind = cell["field_type"].strip().lower()
        kind = LEGACY_TYPE_ALIASES.get(kind, kind)
        # A type the registry refuses is reported once; its other cells are not judged as text.
        refused = kind not in FIELD_TYPES
        not_collected = ""
        if kind == "sql":
            # Its choices come from a query on the REDCap database, which the registry does not
            # have: the field is kept as a placeholder that collects nothing.
            not_collected = (
                "an sql field takes its choices from a query on the REDCap "
                "database; imported as a text field that is not collected (the "
                "query is not kept)"
            )
            kind = "text"
            refused = False
            cell = {
                **cell,
                "select_choices_or_calculations": "",
                "text_validation_type_or_show_slider_number": "",
            }
        elif kind == "advcheckbox":
            self.problem(
                row,
                "field_type",
                "advcheckbox is not supported; use yesno for a single "
                "tick box or checkbox for several options",
            )
            kind = "text"
        elif kind not in FIELD_TYPES:
            self.problem(
                row,
                "field_type",
                f"unknown field type '{kind}'; use one of {', '.join(FIELD_TYPES)}",
            )
            kind = "text"
        field: dict[str, Any] = {"name": name, "type": kind, "label": cell["field_label"].strip()}
        for key, source in (
            ("section", "section_header"),
            ("note", "field_note"),
            ("alignment", "custom_alignment"),
            ("matrix_group", "matrix_group_name"),
        ):
            value = cell[source].strip()
            if value:
                field[key] = value
        for key, source in (("identifier", "identifier"), ("required", "required_field")):
            if self.flag(row, source, cell[source]):
                field[key] = True
        if self.flag(row, "matrix_ranking", cell["matrix_ranking"]):
            self.note(
                row,
                "matrix_ranking",
                name,
                "matrix ranking (one answer per column) is "
                "not kept: the registry has no surveys' ranking; the matrix is imported "
                "without it",
            )
        if cell["question_number"].strip():
            self.note(
                row,
                "question_number",
                name,
                f"question number "
                f"'{cell['question_number'].strip()}' is not kept: it belongs to REDCap "
                "surveys, which the registry does not run",
            )
        show_if = _logic_text(cell["branching_logic"])
        if show_if:
            field["show_if"] = show_if
        if not refused:
            self.choices_cell(row, cell["select_choices_or_calculations"], kind, field)
            self.validation_cells(row, cell, kind, field)
        self.annotation_cell(row, cell["field_annotation"], field, group)
        self.privacy(row, cell, kind, field, not_collected)
        group.fields.append(field)
        group.rows.append(row)

    def privacy(
        self, row: int, cell: Mapping[str, str], kind: str, field: dict[str, Any], reason: str
    ) -> None:
        """Mark what the registry must not store as not collected, and say why."""
        name = field["name"]
        validation = field.get("validation", "")
        info = validation_for(validation) if validation else None
        column = "field_type" if reason else "identifier"
        if reason:
            pass  # the field type already says why (sql)
        elif field.get("identifier"):
            reason = (
                "marked as an identifier; imported as a field that is not collected (never stored)"
            )
        elif info is not None and info.family == "identifier":
            column = "text_validation_type_or_show_slider_number"
            reason = (
                f"validation '{validation}' collects a direct identifier; imported as a "
                "field that is not collected (never stored)"
            )
        elif kind == "file" and validation == "signature":
            column = "text_validation_type_or_show_slider_number"
            reason = (
                "a signature identifies the person; imported as a field that is not "
                "collected (never stored)"
            )
        elif info is not None and info.family in {"date", "datetime"} and not self.keep_dates:
            column = "text_validation_type_or_show_slider_number"
            reason = (
                f"'{validation}' is a calendar date, which the registry does not store "
                "(it records ages and the patient's age at events); imported as a field "
                "that is not collected: add the age it stands for as a number field"
            )
        elif kind in {"text", "notes"} and not validation and _looks_identifying(name):
            column = "field_name"
            reason = (
                f"its name says it holds {_looks_identifying(name)}; imported as a field "
                "that is not collected (never stored)"
            )
        if not reason:
            if kind in {"calc", "descriptive"} and field.get("required"):
                del field["required"]
                self.note(
                    row,
                    "required_field",
                    name,
                    f"'Required' on a {kind} field is "
                    f"ignored: a {kind} field is {'computed' if kind == 'calc' else 'text'}"
                    ", never filled in",
                )
            return
        if kind in {"calc", "descriptive"}:
            field.pop("identifier", None)
            self.note(
                row,
                "identifier",
                name,
                f"the Identifier flag on a {kind} field is ignored: it holds no answer",
            )
            return
        field["identifier"] = True
        self.note(row, column, name, reason)
        if field.pop("required", False):
            self.note(
                row,
                "required_field",
                name,
                "'Required' is dropped: a field that is not collected cannot be required",
            )

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
            if text:
                field["calc"] = _logic_text(text)
        elif kind == "slider":
            if text:
                labels = [part.strip() for part in text.split("|")]
                if len(labels) > 3:
                    self.problem(
                        row, key, "a slider has at most three labels (left | middle | right)"
                    )
                if len(labels) == 2:
                    labels = [labels[0], "", labels[1]]
                labels += [""] * (3 - len(labels))
                field["slider"] = {
                    side: label
                    for side, label in zip(("left", "middle", "right"), labels, strict=False)
                    if label
                }
        elif kind == "text" and text.upper().startswith("BIOPORTAL:"):
            # REDCap's ontology field: a text field whose value is a term of this ontology.
            field["ontology"] = text.split(":", 1)[1].strip()
        elif text:
            if kind in IMPLICIT_CHOICES and _same_choices(text, IMPLICIT_CHOICES[kind]):
                return
            self.problem(
                row, key, f"a {kind} field takes no choices or calculation; leave it blank"
            )

    def validation_cells(
        self, row: int, cell: Mapping[str, str], kind: str, field: dict[str, Any]
    ) -> None:
        validation = cell["text_validation_type_or_show_slider_number"].strip()
        validation = _LEGACY_VALIDATIONS.get(validation, validation)
        if kind == "slider":
            if validation == "number":
                field.setdefault("slider", {})["show_number"] = True
            elif validation:
                self.problem(
                    row,
                    "text_validation_type_or_show_slider_number",
                    "a slider takes only 'number' here (to show the chosen value)",
                )
        elif validation:
            field["validation"] = validation
        info = validation_for(validation) if validation and kind != "slider" else None
        for key, source in (("min", "text_validation_min"), ("max", "text_validation_max")):
            raw = cell[source].strip()
            if not raw:
                continue
            if (
                PIPED_BOUND.fullmatch(raw)
                and kind == "text"
                and info is not None
                and info.has_bounds
            ):
                field[key] = raw  # a limit taken from another field of the form
                continue
            if _PIPING.search(raw):
                self.note(
                    row,
                    source,
                    field["name"],
                    f"the limit '{raw}' is piped from another "
                    "field or a smart variable; the registry checks only fixed limits, "
                    "so it is not kept",
                )
                continue
            field[key] = _typed_bound(
                raw, "integer" if kind == "slider" else (info.family if info else "")
            )

    def annotation_cell(self, row: int, text: str, field: dict[str, Any], group: _FormRows) -> None:
        """The registry's own tags go to the schema; everything else (REDCap's action tags,
        free text) is kept as written in ``annotation``."""
        key = "field_annotation"
        if "@" not in text:
            if text.strip():
                field["annotation"] = text.strip()
            return
        pending_rule: str | None = None
        own: list[tuple[int, int]] = []
        for token in tokens(text):
            upper = token.name
            if upper not in REGISTRY_TAGS:
                reason = KEPT_ONLY.get(upper)
                if reason:
                    self.note(
                        row,
                        key,
                        field["name"],
                        f"@{upper} is kept in the annotation "
                        f"but has no effect in the registry: {reason}",
                    )
                continue
            own.append((token.start, token.end))
            if token.problem:
                self.problem(row, key, token.problem)
                continue
            pending_rule = self.registry_tag(row, upper, token.value, field, group, pending_rule)
        if pending_rule is not None:
            self.problem(row, key, "@CHECK must be followed by its @CHECK-MESSAGE")
        # The rest of the cell is kept as written, less the lines the registry's tags filled.
        rest = text
        for start, end in reversed(own):
            rest = rest[:start] + rest[end:]
        annotation = (
            "\n".join(line.strip() for line in rest.splitlines() if line.strip())
            if own
            else text.strip()
        )
        if annotation:
            field["annotation"] = annotation

    def registry_tag(
        self,
        row: int,
        tag: str,
        value: str | None,
        field: dict[str, Any],
        group: _FormRows,
        pending_rule: str | None,
    ) -> str | None:
        """One of the registry's own tags, put where the schema keeps it; gives back the rule
        of a @CHECK still waiting for its @CHECK-MESSAGE."""
        key = "field_annotation"
        system = tag.removeprefix("CHOICE-")
        if system in ANNOTATION_SYSTEMS:
            self.annotation_tag(row, tag, system, value, field)
        elif tag in {"PATTERN", "PATTERN-MESSAGE", "RENAMED-FROM"}:
            if value is None:
                self.problem(row, key, f"@{tag} needs a value in double quotes")
            else:
                field[tag.lower().replace("-", "_")] = value
        elif tag in {"LIMIT-MIN", "LIMIT-MAX"}:
            number = _typed_bound(value or "", "number")
            if not isinstance(number, int | float):
                self.problem(row, key, f"@{tag} needs a number; found {value!r}")
            else:
                field.setdefault("limits", {})[tag[-3:].lower()] = number
        elif tag == "NO-PHI-SCREEN":
            field["phi_screen"] = False
        elif tag in {"CHECK", "CHECK-MESSAGE"}:
            return self.check_tag(row, tag, value, field, group, pending_rule)
        elif tag in _FORM_TAGS:
            self.form_tag(row, tag, value, group)
        return pending_rule

    def check_tag(
        self,
        row: int,
        tag: str,
        value: str | None,
        field: dict[str, Any],
        group: _FormRows,
        pending_rule: str | None,
    ) -> str | None:
        """@CHECK holds a rule until the @CHECK-MESSAGE after it makes a check of the two."""
        key = "field_annotation"
        if tag == "CHECK":
            if pending_rule is not None:
                self.problem(row, key, "@CHECK must be followed by its @CHECK-MESSAGE")
            return _logic_text(value or "")
        if pending_rule is None:
            self.problem(row, key, "@CHECK-MESSAGE must follow a @CHECK")
            return None
        group.checks.append({"field": field["name"], "rule": pending_rule, "message": value or ""})
        group.check_rows.append(row)
        return None

    def form_tag(self, row: int, tag: str, value: str | None, group: _FormRows) -> None:
        key = "field_annotation"
        if group.fields:
            self.problem(row, key, f"@{tag} describes the form and belongs on its first field")
        elif value is None:
            self.problem(row, key, f"@{tag} needs a value in double quotes")
        else:
            group.form_tags[tag] = (row, value)

    def annotation_tag(
        self, row: int, tag: str, system: str, value: str | None, field: dict[str, Any]
    ) -> None:
        if value is None:
            self.problem(
                row,
                "field_annotation",
                f"@{tag} needs a value such as "
                f'"{"1|" if tag.startswith("CHOICE-") else ""}CODE|label"',
            )
            return
        if tag.startswith("CHOICE-"):
            choice_code, _, rest = value.partition("|")
            code, _, label = rest.partition("|")
            target = next(
                (c for c in field.get("choices", []) if c["code"] == choice_code.strip()), None
            )
            if target is None:
                self.problem(
                    row,
                    "field_annotation",
                    f"@{tag} names choice '{choice_code}', which this field does not have",
                )
                return
            annotations = target.setdefault("annotations", [])
        else:
            code, _, label = value.partition("|")
            annotations = field.setdefault("annotations", [])
        entry = {"system": system, "code": code.strip()}
        if label.strip():
            entry["label"] = label.strip()
        annotations.append(entry)

    def build(self, forms: list[_FormRows], record: tuple[str, str, str]) -> list[FormSchema]:
        names = {group.name for group in forms}
        built: list[FormSchema] = []
        documents: list[tuple[_FormRows, dict[str, Any]]] = []
        first = next((group for group in forms if group.fields), None)
        for group in forms:
            # load_schema knows the form's own reserved names; the other forms' are known here.
            reserved = {
                f"{form}_{suffix}"
                for form in names - {group.name}
                for suffix in ("complete", "timestamp")
            }
            for field, row in zip(group.fields, group.rows, strict=True):
                if field["name"] in reserved:
                    self.problem(
                        row,
                        "field_name",
                        f"'{field['name']}' is reserved by REDCap; choose another name",
                    )
            if not group.fields:
                continue
            data = self.schema_data(group)
            own_record_id = (record[0], record[1]) != ("record_id", "Record ID")
            if group is first and (own_record_id or record[2] != group.name):
                # The project's record-ID field travels on its first form, so that an export
                # of the published forms gives it back as it was.
                name, label, form = record
                data["record_id"] = {
                    "name": name,
                    "label": label,
                    **({"form": form} if form != group.name else {}),
                }
                data = {
                    **{k: v for k, v in data.items() if k != "fields"},
                    "fields": data["fields"],
                }
            documents.append((group, data))
        # Logic may read a field of another instrument of the dictionary, as in REDCap.
        outcomes = load_schemas([data for _, data in documents], published=self.published)
        for (group, _), outcome in zip(documents, outcomes, strict=True):
            if isinstance(outcome, SchemaError):
                for problem in outcome.problems:
                    self.schema_problem(problem, group)
            else:
                built.append(outcome)
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
                for item in tags["MISSING-CODES"][1].split("|")
                if item.strip()
                for code, comma, label in [item.partition(",")]
            ]
        if group.checks:
            data["checks"] = group.checks
        data["fields"] = group.fields
        return data

    def elsewhere(self, problem: Problem, group: _FormRows) -> Problem:
        """A reference to a field of an instrument that has problems of its own says so,
        rather than "not a field"."""
        match = _NOT_HERE.match(problem.message)
        if problem.path.endswith((".min", ".max")):
            return problem  # a piped limit is always a field of the same form
        other = self.form_of.get(match[1]) if match else None
        if match is None or other is None or other == group.name:
            return problem
        return Problem(
            problem.path,
            f"[{match[1]}{match[2] or ''}] is a field of instrument "
            f"'{other}', which cannot be read until its own problems (listed) are "
            "corrected",
            problem.field,
        )

    def schema_problem(self, problem: Problem, group: _FormRows) -> None:
        problem = self.elsewhere(problem, group)
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
            tag = {
                "missing_codes": "MISSING-CODES",
                "retired": "RETIRED",
                "description": "FORM-DESCRIPTION",
            }[top]
            row = group.form_tags.get(tag, (first, ""))[0]
            self.problem(row, "field_annotation", f"@{tag}: {problem.message}")
            return
        self.problem(first, "form_name", f"{path}: {problem.message}")


_IDENTIFYING_NAMES: Final = (
    (
        re.compile(
            r"(first|last|middle|given|family|sur|maiden|full|patient|mother|father|"
            r"parent|guardian|child|subject)_?names?|names?_(first|last|middle|full)"
        ),
        "a person's name",
    ),
    (re.compile(r"e_?mail(_address)?\d*"), "an e-mail address"),
    (
        re.compile(r"(tele)?phone(_number|_no)?\d*|mobile(_number)?|cell_?phone|fax"),
        "a telephone number",
    ),
    (re.compile(r"(street_|home_|postal_|mailing_)?address\d*|street|city_address"), "an address"),
    (re.compile(r"zip(_?code)?|post(al)?_?code"), "a postal code"),
    (
        re.compile(
            r"ssn|social_security(_number)?|mrn|medical_record(_number|_no)?|"
            r"hospital_number|nhs_number|national_id"
        ),
        "a record or national number",
    ),
)


def _looks_identifying(name: str) -> str:
    """What kind of direct identifier a free-text field's name says it holds, or ''."""
    for pattern, what in _IDENTIFYING_NAMES:
        if pattern.fullmatch(name):
            return what
    return ""


_NOT_HERE: Final = re.compile(r"\[([a-z][a-z0-9_]*)(\([^)]*\))?\] is not a field of this form")


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


# --------------------------------------------------------------------------------------------
# Writing


def project_record_id(schemas: Sequence[FormSchema]) -> RecordId:
    """The record-ID field the forms came with (``record_id`` on an imported project's first
    form), or REDCap's default ``record_id`` on the first form."""
    for schema in schemas:
        if schema.record_id is not None:
            return schema.record_id
    return RecordId("record_id", "Record ID")


def metadata_rows(
    schemas: Sequence[FormSchema],
    record_id_field: str = "record_id",
    *,
    record_id_label: str = "Record ID",
    record_id_form: str = "",
) -> list[dict[str, str]]:
    """The dictionary as REDCap API metadata: one dict per field, the record ID first (on
    ``record_id_form``, an instrument of its own, when given)."""
    if not schemas:
        return []
    clash = [s.form for s in schemas if record_id_field in s.fields_by_name]
    if clash:
        raise DictionaryError(
            [
                DictionaryProblem(
                    0,
                    COLUMNS[0],
                    f"the record ID field "
                    f"'{record_id_field}' is also a field of "
                    f"{', '.join(clash)}; choose another name",
                )
            ]
        )
    rows = [_row(record_id_field, record_id_label, record_id_form or schemas[0].form)]
    for schema in schemas:
        checks: dict[str, list[tuple[str, str]]] = {}
        for check in schema.checks:
            checks.setdefault(check.field, []).append((check.rule, check.message))
        for index, f in enumerate(schema.fields):
            tags = _form_tags(schema) if index == 0 else []
            tags += _field_tags(f, checks.get(f.name, []))
            if f.annotation:
                tags.append(f.annotation)
            rows.append(_field_row(schema.form, f, "\n".join(tags)))
    return rows


def write_dictionary(
    schemas: Sequence[FormSchema],
    record_id_field: str | None = None,
    *,
    record_id_label: str | None = None,
    record_id_form: str | None = None,
) -> str:
    """The schemas as a REDCap data dictionary CSV (header and the record-ID row first).

    The record ID is the one the forms came with (``project_record_id``) unless given."""
    project = project_record_id(schemas)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in metadata_rows(
        schemas,
        record_id_field or project.name,
        record_id_label=record_id_label or project.label,
        record_id_form=project.form if record_id_form is None else record_id_form,
    ):
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
    elif f.ontology:
        row["select_choices_or_calculations"] = f"BIOPORTAL:{f.ontology}"
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
