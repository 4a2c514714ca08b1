"""The registry's forms lined up for exchange: one set of names and columns across versions.

Exports and imports speak REDCap's flat layout: one column per field (one per option for a
checkbox, `field___code`), named as in the latest version of the form (`harmonise` maps older
versions onto those names), each form's fields followed by `<form>_complete`. The patient's
sex and year of birth live on the patient record; here they are two record-level fields,
declared in the metadata as fields of the first instrument right after the record ID.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from registry.crfs.models import FormVersion
from registry.crfs.selectors import PublishedMemo, form_order_key, schema_of
from registry.formengine.dictionary import METADATA_KEYS, metadata_rows
from registry.formengine.harmonise import Harmonisation, harmonise
from registry.formengine.schema import Field, FormSchema, checkbox_column
from registry.formengine.values import format_number
from registry.patients.models import Sex
from registry.patients.services import OLDEST_AGE_ACCEPTED
from registry.submissions.models import REDCAP_STATUS_CODES, Status

RECORD_ID = "record_id"
RECORD_ID_LABEL = "Record ID"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DATA_ACCESS_GROUP = "redcap_data_access_group"
EVENT_NAME = "redcap_event_name"
SEX = "sex"
YEAR_OF_BIRTH = "year_of_birth"
RECORD_FIELDS = (SEX, YEAR_OF_BIRTH)
RECORD_FIELD_LABELS = {SEX: "Sex", YEAR_OF_BIRTH: "Year of birth"}

STATUS_CODES: Mapping[str, str] = {
    status: str(code) for status, code in REDCAP_STATUS_CODES.items()
}
STATUS_OF_CODE: Mapping[str, str] = {code: status for status, code in STATUS_CODES.items()}
STATUS_LABELS: Mapping[str, str] = {status.value: status.label for status in Status}


class LayoutError(Exception):
    """The published forms cannot be lined up for exchange (a clash of column names)."""


@dataclass(frozen=True)
class LayoutField:
    """One field across the versions of its form, under its harmonised name."""

    name: str
    form: str
    field: Field
    """Its definition in the latest version that has it."""
    definitions: tuple[Field, ...]
    """Its definitions in every version that has it."""
    names: Mapping[int, str]
    """Version number -> its name in that version."""
    retired: bool
    codes: tuple[str, ...] = ()
    """Checkbox fields: every option code of any version, then the form's missing codes."""
    # dataclasses.field: `field` is the name of an attribute above.
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Choice and missing codes -> label (the latest version's label where codes recur)."""

    @property
    def is_checkbox(self) -> bool:
        return self.field.type == "checkbox"

    @property
    def columns(self) -> tuple[str, ...]:
        if self.is_checkbox:
            return tuple(checkbox_column(self.name, code) for code in self.codes)
        return (self.name,)


@dataclass(frozen=True)
class FormLayout:
    """A form with all its published versions lined up."""

    name: str
    title: str
    repeatable: bool
    latest: FormVersion
    versions: Mapping[int, FormVersion]
    """Version primary key -> version."""
    harmonisation: Harmonisation
    fields: tuple[LayoutField, ...]
    missing_codes: Mapping[str, str]

    @property
    def complete_column(self) -> str:
        return f"{self.name}_complete"

    @property
    def latest_schema(self) -> FormSchema:
        return schema_of(self.latest)

    def version_named(self, number: int) -> FormVersion | None:
        return next((v for v in self.versions.values() if v.number == number), None)


@dataclass(frozen=True)
class RegistryLayout:
    """Every form of the registry, enrolment first, as exports and imports line them up."""

    forms: tuple[FormLayout, ...]
    by_name: Mapping[str, FormLayout]
    fields: Mapping[str, LayoutField]
    """Harmonised field name -> field, over all forms."""
    checkbox_columns: Mapping[str, tuple[LayoutField, str]]
    """`field___code` column -> (field, code)."""
    form_of_version: Mapping[int, FormLayout]
    """Version primary key -> its form."""

    @property
    def first_form(self) -> str:
        return self.forms[0].name if self.forms else ""

    @property
    def any_repeating(self) -> bool:
        return any(form.repeatable for form in self.forms)

    def metadata(self) -> list[dict[str, str]]:
        """The REDCap metadata of the latest version of each form, sex and year of birth
        after the record ID."""
        schemas = [form.latest_schema for form in self.forms]
        rows = metadata_rows(schemas, RECORD_ID, record_id_label=RECORD_ID_LABEL)
        if not rows:
            return []
        return [rows[0], *record_field_rows(self.first_form), *rows[1:]]


def current_layout() -> RegistryLayout:
    """The layout of the published forms, rebuilt only when a version is published."""
    return _current_layout.get()


def record_field_rows(form_name: str) -> list[dict[str, str]]:
    this_year = timezone.now().year
    sex = dict.fromkeys(METADATA_KEYS, "")
    sex.update(
        field_name=SEX,
        form_name=form_name,
        field_type="dropdown",
        field_label=RECORD_FIELD_LABELS[SEX],
        required_field="y",
        select_choices_or_calculations=" | ".join(f"{s.value}, {s.label}" for s in Sex),
        field_note="Kept on the patient record.",
    )
    year = dict.fromkeys(METADATA_KEYS, "")
    year.update(
        field_name=YEAR_OF_BIRTH,
        form_name=form_name,
        field_type="text",
        field_label=RECORD_FIELD_LABELS[YEAR_OF_BIRTH],
        required_field="y",
        text_validation_type_or_show_slider_number="integer",
        text_validation_min=str(this_year - OLDEST_AGE_ACCEPTED),
        text_validation_max=str(this_year),
        field_note="Four digits. Kept on the patient record.",
    )
    return [sex, year]


def registry_layout(versions: Iterable[FormVersion] | None = None) -> RegistryLayout:
    """Line up every published form (or the given versions)."""
    if versions is None:
        versions = FormVersion.objects.select_related("form").order_by("form__name", "number")
    grouped: dict[str, list[FormVersion]] = {}
    for version in versions:
        grouped.setdefault(version.form.name, []).append(version)
    forms = [_form_layout(grouped[name]) for name in sorted(grouped, key=form_order_key)]
    fields: dict[str, LayoutField] = {}
    checkbox_columns: dict[str, tuple[LayoutField, str]] = {}
    owners: dict[str, str] = {name: "the record" for name in (RECORD_ID, *RECORD_FIELDS)}
    for form in forms:
        owners.setdefault(form.complete_column, form.name)
        for layout_field in form.fields:
            for column in layout_field.columns:
                if owners.setdefault(column, form.name) != form.name:
                    raise LayoutError(
                        f"Column {column} of form {form.name} is also a column of "
                        f"{owners[column]}; rename one of the fields in a new form version."
                    )
            fields[layout_field.name] = layout_field
            if layout_field.is_checkbox:
                for code in layout_field.codes:
                    checkbox_columns[checkbox_column(layout_field.name, code)] = (
                        layout_field,
                        code,
                    )
    return RegistryLayout(
        forms=tuple(forms),
        by_name={form.name: form for form in forms},
        fields=fields,
        checkbox_columns=checkbox_columns,
        form_of_version={pk: form for form in forms for pk in form.versions},
    )


_current_layout = PublishedMemo(registry_layout)


def _form_layout(versions: list[FormVersion]) -> FormLayout:
    versions.sort(key=lambda version: version.number)
    schemas = {version.number: schema_of(version) for version in versions}
    harmonisation = harmonise(list(schemas.values()))
    missing: dict[str, str] = {}
    for schema in reversed(list(schemas.values())):
        for missing_code in schema.missing_codes:
            missing.setdefault(missing_code.code, missing_code.label)
    fields = []
    for harmonised in harmonisation.fields:
        definitions = tuple(
            schemas[number].field(name) for number, name in harmonised.names.items()
        )
        codes: list[str] = []
        labels: dict[str, str] = {}
        # Newest first, so a code's label is the one people read today.
        for definition in reversed(definitions):
            for code, label in definition.all_choices():
                if code not in labels:
                    labels[code] = label
                    codes.append(code)
        if harmonised.field.type == "checkbox":
            order = [code for code, _ in harmonised.field.all_choices()]
            codes = order + [code for code in codes if code not in order]
            codes += [code for code in missing if code not in labels]
        for code, label in missing.items():
            labels.setdefault(code, label)
        fields.append(
            LayoutField(
                name=harmonised.name,
                form=harmonisation.form,
                field=harmonised.field,
                definitions=definitions,
                names=harmonised.names,
                retired=harmonised.retired,
                codes=tuple(codes) if harmonised.field.type == "checkbox" else (),
                labels=labels,
            )
        )
    latest = versions[-1]
    return FormLayout(
        name=latest.form.name,
        title=latest.form.title,
        repeatable=latest.form.repeatable,
        latest=latest,
        versions={version.pk: version for version in versions},
        harmonisation=harmonisation,
        fields=tuple(fields),
        missing_codes=missing,
    )


def typed_text(value: Any) -> str:
    """A stored value as REDCap writes it in a flat file."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return "" if value is None else str(value)
