"""Reads of forms and their schemas. Forms hold no patient data: anyone signed in may read them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from registry.cache_outage import CACHE_UNREACHABLE, cache_failed, cache_reachable
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
        # Its references to other forms were checked when it was published.
        schema = _parsed_schemas[version.content_hash] = load_schema(version.schema,
                                                                     published=True)
    return schema


def latest_schemas(leaving_out: Iterable[str] = ()) -> list[FormSchema]:
    """The newest version of every form but those named, parsed: what a form being published
    may read besides the forms published with it."""
    left_out = set(leaving_out)
    return [schema_of(version) for version in latest_versions()
            if version.form.name not in left_out]


# Every published version, without its schema, for the API's per-request version lookup. Versions
# never change once published, and a form's title and repeatability change only when one is
# published, so the copy goes stale only then: each publication sets a new generation in the
# shared cache (after its commit), and a process whose copy belongs to another generation
# reads the versions again. The generation is read before the versions, so a publication that
# commits in between only costs one more read.
_GENERATION_KEY = "crfs:published-generation"
_published: tuple[object, dict[tuple[str, int | None], FormVersion]] | None = None


def published_version(form: str, number: int | None = None) -> FormVersion | None:
    """Version `number` of the form named `form` (the newest when None), or None. The schema is
    deferred: `schema_of` parses it once per process."""
    global _published
    generation = _published_generation()
    if _published is None or _published[0] != generation:
        versions: dict[tuple[str, int | None], FormVersion] = {}
        for version in (FormVersion.objects.select_related("form").defer("schema")
                        .order_by("form__name", "number")):
            versions[(version.form.name, version.number)] = version
            versions[(version.form.name, None)] = version
        _published = (generation, versions)
    return _published[1].get((form, number))


_field_forms: tuple[object, dict[str, int], dict[int, FormVersion]] | None = None


def forms_of_fields() -> dict[str, int]:
    """Field name -> id of the form whose newest version has it: where a form's logic finds a
    field of another form (publishing refuses a name two forms share). Worked out once per
    publication."""
    return _newest()[1]


def newest_versions() -> dict[int, FormVersion]:
    """Form id -> its newest version (the schema deferred: `schema_of` parses it)."""
    return _newest()[2]


def _newest() -> tuple[object, dict[str, int], dict[int, FormVersion]]:
    global _field_forms
    published_version("")  # brings this process's copy of the published versions up to date
    assert _published is not None
    if _field_forms is None or _field_forms[0] is not _published:
        holders: dict[str, int] = {}
        newest: dict[int, FormVersion] = {}
        for (_, number), version in sorted(_published[1].items(),
                                           key=lambda item: form_order_key(item[0][0])):
            if number is None:
                newest[version.form_id] = version
                for f in schema_of(version).fields:
                    holders.setdefault(f.name, version.form_id)
        _field_forms = (_published, holders, newest)
    return _field_forms


def _published_generation() -> object:
    if cache_reachable():
        try:
            return cache.get(_GENERATION_KEY)
        except CACHE_UNREACHABLE as error:
            cache_failed(error, "Published form versions are read from the database at each "
                                "API request instead of once per publication")
    # Equal to no copy's generation: without the cache, a publication elsewhere would go unseen.
    return object()


def forget_published_versions() -> None:
    """Drop this process's copy now, and every process's once the current transaction commits."""
    global _published
    _published = None
    transaction.on_commit(_announce_publication)


def _announce_publication() -> None:
    try:
        cache.set(_GENERATION_KEY, uuid.uuid4().hex, None)
    except CACHE_UNREACHABLE as error:
        # The publication itself is committed: failing now would only hide that.
        cache_failed(error, "A form version was published, but processes that have not read "
                            "the published versions during the outage may go on using the "
                            "ones they knew: restart the web and worker processes once the "
                            "cache is back")
