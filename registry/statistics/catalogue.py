"""The published forms as the statistics and the quality checks see them: every version of a
form lined up under one set of harmonised field names (registry.formengine.harmonise)."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.selectors import form_order_key, schema_of
from registry.formengine.harmonise import Harmonisation, HarmonisedField, harmonise
from registry.formengine.schema import Field, FormSchema

CATEGORICAL_TYPES = frozenset({"dropdown", "radio", "checkbox", "yesno", "truefalse"})
NUMERIC_VALIDATION_FAMILIES = frozenset({"integer", "number"})


def is_numeric(f: Field) -> bool:
    if f.type in ("calc", "slider"):
        return True
    info = f.validation_info
    return f.type == "text" and info is not None and info.family in NUMERIC_VALIDATION_FAMILIES


def is_categorical(f: Field) -> bool:
    return f.type in CATEGORICAL_TYPES


@dataclass
class FormInfo:
    """One form: its versions (oldest first), their schemas and the harmonisation."""

    form: FormDefinition
    versions: list[FormVersion]
    harmonisation: Harmonisation
    schemas: dict[int, FormSchema] = field(default_factory=dict)  # by FormVersion id

    @property
    def name(self) -> str:
        return self.form.name

    @property
    def latest(self) -> FormSchema:
        return self.schemas[self.versions[-1].pk]

    def version_names(self, harmonised: HarmonisedField) -> dict[int, str | None]:
        """FormVersion id -> the field's name in that version (None where it is absent)."""
        return {version.pk: harmonised.names.get(version.number) for version in self.versions}

    def harmonised_field(self, name: str) -> HarmonisedField:
        for harmonised in self.harmonisation.fields:
            if harmonised.name == name:
                return harmonised
        raise KeyError(f"{name} is not a field of {self.name}")

    def data_fields(self) -> list[HarmonisedField]:
        return [h for h in self.harmonisation.fields if h.field.stores_data]


def form_catalogue() -> dict[str, FormInfo]:
    """Every published form with at least one version, enrolment first."""
    by_form: dict[int, list[FormVersion]] = {}
    forms: dict[int, FormDefinition] = {}
    for version in FormVersion.objects.select_related("form").order_by("form_id", "number"):
        by_form.setdefault(version.form_id, []).append(version)
        forms[version.form_id] = version.form
    catalogue = {}
    for form_id in sorted(forms, key=lambda pk: form_order_key(forms[pk].name)):
        versions = by_form[form_id]
        schemas = {version.pk: schema_of(version) for version in versions}
        catalogue[forms[form_id].name] = FormInfo(
            forms[form_id], versions, harmonise(list(schemas.values())), schemas
        )
    return catalogue
