"""New form versions from a file a curator uploads in the admin: a REDCap data dictionary (CSV)
or one form's YAML, published through the same rules and the same service as `sync_forms`.

Reading an upload never writes anything. `plan_upload` says what publishing it would do: what
the registry changed on the way in and what it refuses (each by row and column, or by line),
and, for every form that would get a new version, each change from its latest published
version with what it does to the submissions already filled. `do_publish_upload` publishes
the plan in one transaction, and only if the latest versions are still those it was planned
against; nothing changes when anything is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import yaml
from django.db import IntegrityError, transaction

from registry.formengine.compare import Effect, describe_effects
from registry.formengine.dictionary import (
    COLUMNS,
    METADATA_KEYS,
    DictionaryError,
    write_dictionary,
)
from registry.formengine.schema import (
    CHOICE_TYPES,
    FormSchema,
    SchemaError,
    content_hash,
    load_schema,
)
from registry.people.models import User

from .dictionaries import plan_dictionary_with_report
from .models import FormDefinition, FormVersion
from .selectors import latest_schemas, schema_of
from .services import FormFile, FormSyncError, SyncReport, do_sync_forms, load_together

# A dictionary of 5,000 fields is about 1.5 MB; a form's YAML of 1,000 fields about 150 KB.
MAX_DICTIONARY_BYTES: Final = 10 * 1024 * 1024
MAX_FORM_FILE_BYTES: Final = 1024 * 1024
MAX_UPLOAD_BYTES: Final = max(MAX_DICTIONARY_BYTES, MAX_FORM_FILE_BYTES)
# A form file nests five levels (form, fields, a field, its choices, a choice); the rest is
# room for annotations. PyYAML builds nested values recursively: deeper input is refused
# before it is built.
MAX_YAML_DEPTH: Final = 20
MAX_YAML_NODES: Final = 500_000
DICTIONARY = "dictionary"
FORM_FILE = "form"

_SUFFIXES: Final = {".csv": DICTIONARY, ".yaml": FORM_FILE, ".yml": FORM_FILE}
_UNSAFE_NAME: Final = re.compile(r"[^\w.\- ()]+")


@dataclass(frozen=True)
class UploadNote:
    """Something about an uploaded file, where it is (row and column, or line) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UploadRefused(ValueError):
    """The upload cannot be read at all (size, encoding, kind); ``problems`` says why."""

    def __init__(self, problems: Sequence[UploadNote]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Upload:
    """An uploaded file read as text: what is planned and, once confirmed, published."""

    name: str
    kind: str
    text: str
    repeatable: tuple[str, ...] = ()

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def source(self) -> str:
        # Kept on each published version and in its audit event: which upload it came from.
        return f"upload:{self.name}@{self.digest[:12]}"


@dataclass(frozen=True)
class PlannedVersion:
    schema: FormSchema
    latest: int  # the number published when planned; 0 for a new form
    effects: tuple[Effect, ...]


@dataclass
class UploadPlan:
    upload: Upload
    files: list[FormFile] = field(default_factory=list)
    pending: list[PlannedVersion] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[UploadNote] = field(default_factory=list)
    """What the registry changed on the way in (the file's text is not what it will hold)."""
    problems: list[UploadNote] = field(default_factory=list)
    """What it refuses: with any of these, nothing can be published."""
    latest: dict[str, int] = field(default_factory=dict)
    """Every form the upload names -> its latest published number when planned (0: none)."""

    @property
    def publishable(self) -> bool:
        return not self.problems and bool(self.pending)


def clean_file_name(name: str) -> str:
    """The uploaded file's own name, without folders or characters that could mislead."""
    base = re.split(r"[\\/]", name or "")[-1]
    return _UNSAFE_NAME.sub("_", base).strip()[:100] or "upload"


def read_upload(name: str, raw: bytes, *, repeatable: Collection[str] = ()) -> Upload:
    """An uploaded file as text, or `UploadRefused` saying what is wrong with it."""
    name = clean_file_name(name)
    kind = _SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise UploadRefused(
            [
                UploadNote(
                    name,
                    (
                        "upload a REDCap data dictionary (a .csv file) or a form file (.yaml or "
                        ".yml)."
                    ),
                )
            ]
        )
    limit = MAX_DICTIONARY_BYTES if kind == DICTIONARY else MAX_FORM_FILE_BYTES
    if len(raw) > limit:
        what = "a dictionary" if kind == DICTIONARY else "a form file"
        raise UploadRefused(
            [
                UploadNote(
                    name,
                    (f"the file is {len(raw):,} bytes; {what} may be at most {limit:,} bytes."),
                )
            ]
        )
    if not raw.strip():
        raise UploadRefused([UploadNote(name, "the file is empty.")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadRefused([_not_utf8(name, raw, error)]) from error
    nul = text.find("\x00")
    if nul >= 0:
        raise UploadRefused(
            [
                UploadNote(
                    f"{name}, {_line_of(text, nul)}",
                    (
                        "the file contains a NUL character (\\0), which no form or dictionary may "
                        "hold; "
                        "it is probably not a text file."
                    ),
                )
            ]
        )
    names = tuple(sorted({part for part in re.split(r"[\s,]+", " ".join(repeatable)) if part}))
    return Upload(name, kind, text, names)


def _not_utf8(name: str, raw: bytes, error: UnicodeDecodeError) -> UploadNote:
    start = raw[: error.start]
    line = start.count(b"\n") + 1
    column = error.start - (start.rfind(b"\n") + 1) + 1
    byte = raw[error.start]
    likely = ""
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        likely = (
            f" It looks like Windows-1252 (where it is {bytes([byte]).decode('cp1252')!r}),"
            " as Excel saves 'CSV': save it as 'CSV UTF-8' instead."
        )
    return UploadNote(
        f"{name}, line {line}, column {column}",
        (f"byte 0x{byte:02x} is not UTF-8 text; the registry reads UTF-8 only.{likely}"),
    )


def _line_of(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    return f"line {line}, column {position - (text.rfind(chr(10), 0, position) + 1) + 1}"


# --------------------------------------------------------------------------------------------
# Planning: what publishing would do, with nothing written


def plan_upload(upload: Upload, *, review: bool = True) -> UploadPlan:
    """What publishing `upload` would do. Reads the published versions; writes nothing.

    Without `review`, only what decides whether it can be published is worked out (the
    problems, the versions and their numbers), not the notes and the changes shown to a person.
    """
    plan = UploadPlan(upload)
    root = Path(upload.source)
    if upload.kind == DICTIONARY:
        schemas = _plan_dictionary(plan, root, review=review)
    else:
        schemas = _plan_form_file(plan, root)
    if plan.problems:
        return plan
    if not review:
        # do_sync_forms checks every file again as it publishes: what is left to know is which
        # forms the upload names, and what is published of them.
        plan.latest = _latest_numbers([form_file.data["form"] for form_file in plan.files])
        return plan
    _plan_versions(plan, schemas)
    return plan


def _plan_dictionary(plan: UploadPlan, root: Path, *, review: bool) -> list[FormSchema]:
    upload = plan.upload
    try:
        plan.files, imported = plan_dictionary_with_report(
            upload.text, repeatable_forms=upload.repeatable, forms_root=root
        )
    except DictionaryError as error:
        plan.problems.extend(
            UploadNote(_where(problem.row, problem.column), problem.message)
            for problem in error.problems
        )
        return []
    except SchemaError as error:
        plan.problems.extend(UploadNote("", str(problem)) for problem in error.problems)
        return []
    if not review:
        return []
    schemas = []
    for form_file, loaded in zip(plan.files, load_together(plan.files), strict=True):
        if isinstance(loaded, SchemaError):
            plan.problems.extend(
                UploadNote(form_file.data.get("form", ""), str(problem))
                for problem in loaded.problems
            )
        else:
            schemas.append(loaded)
    if plan.problems:
        return schemas
    published = _latest_numbers([schema.form for schema in schemas])
    for schema in schemas:
        repeats = "repeatable" if schema.repeatable else "not repeatable"
        if published[schema.form]:
            plan.notes.append(
                UploadNote(
                    schema.form,
                    (
                        f"title {schema.title!r} and {repeats} as published (a dictionary holds "
                        "neither)."
                    ),
                )
            )
        else:
            plan.notes.append(
                UploadNote(
                    schema.form,
                    (f"a new form, titled {schema.title!r} after its name and {repeats}."),
                )
            )
    # The importer's own report (identifiers not collected, tags kept, flags dropped), then
    # every cell that reads differently once imported.
    plan.notes.extend(
        UploadNote(
            _where(note.row, note.column),
            f"{note.field}: {note.message}" if note.field else note.message,
        )
        for note in imported.notes
    )
    plan.notes.extend(_dictionary_changes(upload.text, schemas))
    return schemas


def _plan_form_file(plan: UploadPlan, root: Path) -> list[FormSchema]:
    data, problems = _read_yaml(plan.upload.text)
    if problems:
        plan.problems.extend(problems)
        return []
    if not isinstance(data, dict):
        plan.problems.append(
            UploadNote(
                "",
                (
                    "a form file holds one mapping: form, version, title, fields (see the form "
                    "schema "
                    "reference)."
                ),
            )
        )
        return []
    form = data.get("form")
    if not isinstance(form, str) or not form:
        plan.problems.append(UploadNote("form", "name the form: `form: <name>`."))
        return []
    latest = _latest_numbers([form])[form]
    data = dict(data)
    if "version" not in data:
        data["version"] = latest + 1
        plan.notes.append(
            UploadNote(
                "version",
                (f"the file gives no version: it becomes version {latest + 1} of {form}."),
            )
        )
    elif (isinstance(data["version"], bool) or data["version"] != latest + 1) and not (
        _same_as_published(data, form)
    ):
        plan.problems.append(
            UploadNote(
                "version",
                (
                    f"the file says version {data['version']!r}, but the next version of {form} "
                    f"is {latest + 1}"
                    + (f" (version {latest} is the latest published)" if latest else "")
                    + f". Write `version: {latest + 1}` (or leave it out) after checking the "
                    "file starts from the latest version."
                ),
            )
        )
        return []
    try:
        schema = load_schema(data, others=latest_schemas(leaving_out=[form]))
    except SchemaError as error:
        plan.problems.extend(UploadNote("", str(problem)) for problem in error.problems)
        return []
    except (TypeError, ValueError, AttributeError) as error:
        # A YAML mapping can hold values no schema key expects (dates, mappings keyed by
        # numbers): the schema checker reports what it recognises, this catches the rest.
        plan.problems.append(UploadNote("", f"the file cannot be read as a form: {error}"))
        return []
    plan.files = [FormFile(str(root / form / f"v{schema.version}.yaml"), data)]
    return [schema]


def _same_as_published(data: dict[str, Any], form: str) -> bool:
    # A file identical to a published version is left alone, as sync_forms does.
    number = data.get("version")
    if not isinstance(number, int) or isinstance(number, bool):
        return False
    published = FormVersion.objects.filter(form__name=form, number=number).first()
    if published is None:
        return False
    try:
        return content_hash(load_schema(data, published=True)) == published.content_hash
    except (SchemaError, TypeError, ValueError, AttributeError):
        return False


def _plan_versions(plan: UploadPlan, schemas: Sequence[FormSchema]) -> None:
    """Which schemas are new versions, against what is published, by the rules of
    `sync_forms` (and of `pending_publication`, which shows its plan)."""
    plan.latest = _latest_numbers([schema.form for schema in schemas])
    for schema in schemas:
        label = f"{schema.form} v{schema.version}"
        same_number = FormVersion.objects.filter(
            form__name=schema.form, number=schema.version
        ).first()
        if same_number is not None:
            if same_number.content_hash == content_hash(schema):
                plan.unchanged.append(label)
            else:
                plan.problems.append(
                    UploadNote(
                        schema.form,
                        (
                            f"{label} is already published with different content; a published "
                            "version never changes: it would be version "
                            f"{plan.latest[schema.form] + 1}."
                        ),
                    )
                )
            continue
        latest = plan.latest[schema.form]
        effects: tuple[Effect, ...] = ()
        if latest:
            previous = FormVersion.objects.get(form__name=schema.form, number=latest)
            effects = describe_effects(schema_of(previous), schema)
        plan.pending.append(PlannedVersion(schema, latest, effects))


def _latest_numbers(forms: Sequence[str]) -> dict[str, int]:
    numbers = dict.fromkeys(forms, 0)
    for name, number in FormVersion.objects.filter(form__name__in=forms).values_list(
        "form__name", "number"
    ):
        numbers[name] = max(numbers[name], number)
    return numbers


def _where(row: int, column: str) -> str:
    if not row:
        return f"column '{column}'" if column else ""
    return f"row {row}" + (f", column '{column}'" if column else "")


# --------------------------------------------------------------------------------------------
# What the registry changed in a dictionary: its cells against the dictionary of what was read


_COLUMN_OF_KEY: Final = dict(zip(METADATA_KEYS, COLUMNS, strict=True))
_CASE_FREE: Final = frozenset(
    {
        "Field Type",
        "Text Validation Type OR Show Slider Number",
        "Identifier?",
        "Required Field?",
        "Custom Alignment",
        "Matrix Ranking?",
    }
)
_CHOICES_COLUMN: Final = COLUMNS[5]
_NAME_COLUMN: Final = COLUMNS[0]
_TYPE_COLUMN: Final = COLUMNS[3]


def _dictionary_changes(text: str, schemas: Sequence[FormSchema]) -> list[UploadNote]:
    """Every cell of the file the registry will hold differently, by row and column.

    The dictionary the imported forms write is compared with the file, field by field, so the
    report says what changed however the importer came to change it (spacing aside).
    """
    given = _rows_by_field(text)
    if given is None:
        return []
    written = _rows_by_field(write_dictionary(schemas))
    assert written is not None
    notes = []
    for name, (row, cells) in given.items():
        if name not in written:
            notes.append(
                UploadNote(
                    _where(row, _NAME_COLUMN), (f"{name} is not a field of the imported forms.")
                )
            )
            continue
        kept = written[name][1]
        kind = kept.get(_TYPE_COLUMN, "").lower()
        for column, value in cells.items():
            before = _comparable(column, value, kind)
            after = _comparable(column, kept.get(column, ""), kind)
            if before != after:
                notes.append(
                    UploadNote(
                        _where(row, column),
                        (f"{_shown(value)} becomes {_shown(kept.get(column, ''))}."),
                    )
                )
    return notes


def _rows_by_field(text: str) -> dict[str, tuple[int, dict[str, str]]] | None:
    """{field name: (row as a spreadsheet numbers it, {column header: cell})}, the record ID's
    row left out (it is not part of any form)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if not header:
        return None
    columns = [_COLUMN_OF_KEY.get(cell.strip(), cell.strip()) for cell in header]
    if _NAME_COLUMN not in columns:
        return None
    rows: dict[str, tuple[int, dict[str, str]]] = {}
    first = True
    for number, cells in _numbered(reader):
        named = {
            column: cell for column, cell in zip(columns, cells, strict=False) if column in COLUMNS
        }
        name = named.get(_NAME_COLUMN, "").strip()
        if not name:
            continue
        if first:
            first = False
            continue
        rows.setdefault(name, (number, named))
    return rows


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    # Rows as a spreadsheet numbers them (header = 1), a multi-line cell being one row, as the
    # importer numbers them.
    yield from enumerate(reader, start=2)


def _comparable(column: str, value: str, field_type: str) -> object:
    """The cell as far as it means something: spacing and the case of keywords aside."""
    value = value.replace("\r\n", "\n").strip()
    if column in _CASE_FREE:
        return value.lower()
    if column == _CHOICES_COLUMN and field_type in CHOICE_TYPES:
        return tuple(
            tuple(part.strip() for part in choice.split(",", 1))
            for choice in value.split("|")
            if choice.strip()
        )
    if column == _CHOICES_COLUMN and field_type == "slider":
        labels = [label.strip() for label in value.split("|")]
        # Two slider labels are the left and the right one, as three with no middle.
        return (labels[0], "", labels[1]) if len(labels) == 2 else tuple(labels)
    return value


def _shown(value: str) -> str:
    value = value.strip()
    if not value:
        return "(blank)"
    return repr(value if len(value) <= 120 else value[:117] + "...")


# --------------------------------------------------------------------------------------------
# A form file's YAML, read without trusting it


def _read_yaml(text: str) -> tuple[Any, list[UploadNote]]:
    """The YAML document, refusing what a form file never needs and a hostile one might use:
    tags (which could name Python objects), anchors and aliases (which let a few lines expand
    into millions of values), several documents, and nesting deeper than a form has."""
    depth = documents = nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            where = f"line {event.start_mark.line + 1}"
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    return None, [
                        UploadNote(
                            where,
                            "a form file holds one document (one form);"
                            " upload each form on its own.",
                        )
                    ]
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return None, [
                    UploadNote(
                        where,
                        (
                            "anchors and aliases (&name, *name) are not accepted in a form file; "
                            "write "
                            "the value out."
                        ),
                    )
                ]
            if getattr(event, "tag", None) is not None:
                return None, [
                    UploadNote(
                        where,
                        (
                            f"YAML tags ({event.tag}) are not accepted in a form file; write plain "
                            "values."
                        ),
                    )
                ]
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return None, [
                        UploadNote(
                            where,
                            (
                                f"the file nests more than {MAX_YAML_DEPTH} levels deep; a form "
                                "needs "
                                "five."
                            ),
                        )
                    ]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if nodes > MAX_YAML_NODES:
                    return None, [
                        UploadNote(where, (f"the file holds more than {MAX_YAML_NODES:,} values."))
                    ]
        return yaml.safe_load(text), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        return None, [UploadNote(where, f"not valid YAML: {problem}.")]


# --------------------------------------------------------------------------------------------
# Publishing


class PublishedMeanwhile(FormSyncError):
    """A form of the upload got a new version after the curator reviewed the upload."""


def do_publish_upload(
    actor: User | None, upload: Upload, *, expected_latest: Mapping[str, int]
) -> SyncReport:
    """Publish the upload's new versions, as `sync_forms` does (one transaction, audited as
    `form_version.publish`, nothing changed on any refusal), if the latest version of each of
    its forms is still the one in `expected_latest`, the versions the curator compared with."""
    with transaction.atomic():
        plan = plan_upload(upload, review=False)
        if plan.problems:
            raise FormSyncError([str(problem) for problem in plan.problems])
        # Held until the commit: nobody publishes another version of these forms in between.
        list(FormDefinition.objects.select_for_update().filter(name__in=list(plan.latest)))
        now = _latest_numbers(list(plan.latest))
        if now != dict(expected_latest):
            moved = sorted(name for name in now if now[name] != expected_latest.get(name))
            raise PublishedMeanwhile(
                [
                    f"{name} was published as version {now[name]} since you uploaded the file: "
                    "nothing was published. Upload it again to see the changes against that "
                    "version."
                    for name in moved
                ]
                or ["The upload names other forms than the ones reviewed: upload it again."]
            )
        try:
            return do_sync_forms(actor, plan.files)
        except IntegrityError as error:
            # Another first version of a new form, committed between our check and our write.
            raise PublishedMeanwhile(
                [
                    "Another curator published one of these forms at the same moment: nothing was "
                    "published. Upload the file again."
                ]
            ) from error
