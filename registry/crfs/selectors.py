"""Reads of forms and their schemas. Forms hold no patient data: anyone signed in may read them."""

from __future__ import annotations

from django.db.models import QuerySet

from registry.formengine.schema import FormSchema, load_schema

from .models import FormDefinition, FormVersion


def published_forms() -> QuerySet[FormDefinition]:
    return FormDefinition.objects.prefetch_related("versions")


def latest_version(form: FormDefinition) -> FormVersion:
    return form.versions.order_by("-number").first()  # type: ignore[return-value]


def latest_versions() -> list[FormVersion]:
    """The newest version of every form, in the order forms are filled (enrolment first)."""
    versions = {}
    for version in FormVersion.objects.select_related("form").order_by("form__name", "number"):
        versions[version.form.name] = version
    return sorted(versions.values(), key=lambda version: form_order_key(version.form.name))


def form_order_key(name: str) -> tuple[int, str]:
    # Enrolment comes first everywhere (dashboards, exports); the rest alphabetically.
    return (0 if name == "enrollment" else 1, name)


# Keyed by content hash: a published version never changes, so its parsed schema never goes stale.
_parsed_schemas: dict[str, FormSchema] = {}


def schema_of(version: FormVersion) -> FormSchema:
    """The engine's view of a version, parsed once per process."""
    schema = _parsed_schemas.get(version.content_hash)
    if schema is None:
        schema = _parsed_schemas[version.content_hash] = load_schema(version.schema)
    return schema
