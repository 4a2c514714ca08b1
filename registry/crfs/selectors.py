"""Reads of forms and their schemas. Forms hold no patient data: anyone signed in may read them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from django.db.models import Count, Max, QuerySet

from registry.formengine.schema import FormSchema, load_schema

from .models import FormDefinition, FormVersion

T = TypeVar("T")


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
        schema = _parsed_schemas[version.content_hash] = load_schema(version.schema, published=True)
    return schema


def latest_schemas(leaving_out: Iterable[str] = ()) -> list[FormSchema]:
    """The newest version of every form but those named, parsed: what a form being published
    may read besides the forms published with it."""
    left_out = set(leaving_out)
    return [
        schema_of(version) for version in latest_versions() if version.form.name not in left_out
    ]


# What the published versions determine (the API's version lookup, the exchange's layout) is
# kept per process and rebuilt when the published set changes. Whether it changed is asked of
# the database itself at each use, one aggregate over a small table: a shared cache would have
# to be told of every publication, by every process and machine, and a process without it
# would serve stale forms. Versions are only ever added (never changed, and removed only by a
# rolled-back transaction), and a form's title and repeatability change only when one is
# published, so the count, the newest primary key and the newest publication time together
# name the published set. The time tells apart two sets of equal count and key, which a
# rolled-back publication followed by another can leave on a database that reuses keys.
Generation = tuple[int, int | None, object]


def published_generation() -> Generation:
    """What names the current set of published versions, as this transaction sees it."""
    row = FormVersion.objects.aggregate(
        count=Count("pk"), newest=Max("pk"), published_at=Max("published_at")
    )
    return (row["count"], row["newest"], row["published_at"])


class PublishedMemo(Generic[T]):
    """A value built from the published versions, kept per process and built again when a
    publication (in any process, on any machine) has changed them. The generation is read
    before the value is built, so a publication that commits in between costs one more build
    at the next use, never a stale value."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._memo: tuple[Generation, T] | None = None

    def get(self) -> T:
        generation = published_generation()
        memo = self._memo
        if memo is not None and memo[0] == generation:
            return memo[1]
        value = self._build()
        self._memo = (generation, value)
        return value

    def forget(self) -> None:
        self._memo = None


def _read_published_versions() -> dict[tuple[str, int | None], FormVersion]:
    versions: dict[tuple[str, int | None], FormVersion] = {}
    for version in (
        FormVersion.objects.select_related("form").defer("schema").order_by("form__name", "number")
    ):
        versions[(version.form.name, version.number)] = version
        versions[(version.form.name, None)] = version
    return versions


_published_versions = PublishedMemo(_read_published_versions)


def published_version(form: str, number: int | None = None) -> FormVersion | None:
    """Version `number` of the form named `form` (the newest when None), or None. The schema is
    deferred: `schema_of` parses it once per process."""
    return _published_versions.get().get((form, number))


def forms_of_fields() -> dict[str, int]:
    """Field name -> id of the form whose newest version has it: where a form's logic finds a
    field of another form (publishing refuses a name two forms share). Worked out once per
    publication."""
    return _newest.get()[0]


def newest_versions() -> dict[int, FormVersion]:
    """Form id -> its newest version (the schema deferred: `schema_of` parses it)."""
    return _newest.get()[1]


def _read_newest() -> tuple[dict[str, int], dict[int, FormVersion]]:
    holders: dict[str, int] = {}
    newest: dict[int, FormVersion] = {}
    for (_, number), version in sorted(
        _published_versions.get().items(), key=lambda item: form_order_key(item[0][0])
    ):
        if number is None:
            newest[version.form_id] = version
            for f in schema_of(version).fields:
                holders.setdefault(f.name, version.form_id)
    return holders, newest


_newest = PublishedMemo(_read_newest)
