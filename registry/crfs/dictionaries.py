"""REDCap data dictionaries in and out of the registry, through the same rules as `forms/`.

An imported instrument becomes version 1 of a new form, or the next version of an existing one
when its content differs from the latest; an unchanged instrument is left alone. The import
report (``DictionaryImportReport.notes``) lists everything the registry changed on the way in:
fields not collected, flags and cells not carried over (docs/form-schema.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from registry.formengine.dictionary import (
    DictionaryImport,
    DictionaryNote,
    read_dictionary,
    write_dictionary,
)
from registry.formengine.schema import content_hash, load_schema
from registry.people.models import User

from .models import FormDefinition, FormVersion
from .selectors import form_order_key, latest_schemas, latest_versions, schema_of
from .services import FormFile, SyncReport, do_sync_forms


@dataclass
class DictionaryImportReport(SyncReport):
    """What was published, and the import report of the dictionary it came from."""

    notes: list[DictionaryNote] = field(default_factory=list)
    summary: str = ""
    """The report as text: a count line, then one line per note (``DictionaryImport.report``)."""


def plan_dictionary_import(
    text: str | bytes,
    *,
    repeatable_forms: Collection[str] = (),
    forms_root: Path,
    keep_dates: bool = False,
) -> list[FormFile]:
    """The instruments of a dictionary as form files, each numbered after what is published.

    Raises the engine's DictionaryError (row and column of every problem) for a bad dictionary.
    """
    return plan_dictionary_with_report(
        text, repeatable_forms=repeatable_forms, forms_root=forms_root, keep_dates=keep_dates
    )[0]


def plan_dictionary_with_report(
    text: str | bytes,
    *,
    repeatable_forms: Collection[str] = (),
    forms_root: Path,
    keep_dates: bool = False,
) -> tuple[list[FormFile], DictionaryImport]:
    """`plan_dictionary_import`, with the import as read: its notes are the report of what the
    registry changed on the way in, for pages that show it before anything is published."""
    known_repeatable = set(
        FormDefinition.objects.filter(repeatable=True).values_list("name", flat=True)
    )
    imported = read_dictionary(
        text,
        repeatable_forms={*repeatable_forms, *known_repeatable},
        keep_dates=keep_dates,
        published=latest_schemas(),
    )
    files = []
    for schema, data in zip(imported.schemas, imported.data, strict=True):
        latest = FormVersion.objects.filter(form__name=schema.form).order_by("-number").first()
        if latest is not None:
            # Title and repeatability are not in a dictionary: they stay as published.
            data = {
                **data,
                "version": latest.number,
                "title": latest.schema["title"],
                "repeatable": latest.schema.get("repeatable", False),
            }
            if content_hash(load_schema(data, published=True)) != latest.content_hash:
                data = _without_past_renames({**data, "version": latest.number + 1}, latest.schema)
        path = forms_root / data["form"] / f"v{data['version']}.yaml"
        files.append(FormFile(str(path), data))
    return files, imported


def _without_past_renames(data: dict[str, Any], latest: Mapping[str, Any]) -> dict[str, Any]:
    """A new version without the renames of the versions before it.

    An exported dictionary carries each field's `@RENAMED-FROM` of the latest version; sent
    back with an edit, it would claim the rename again in the next version, where the old name
    no longer exists. A field whose name the latest version already has was renamed before,
    not now.
    """
    names = {f["name"] for f in latest.get("fields", ())}
    fields = [
        {key: value for key, value in f.items() if key != "renamed_from"}
        if f.get("renamed_from") and f["name"] in names
        else f
        for f in data.get("fields", ())
    ]
    return {**data, "fields": fields}


def do_import_dictionary(
    actor: User | None,
    text: str | bytes,
    *,
    repeatable_forms: Collection[str] = (),
    forms_root: Path,
    write_files: bool = False,
    keep_dates: bool = False,
) -> DictionaryImportReport:
    """Publish a dictionary's instruments; optionally write them out as `forms/` files too."""
    files, imported = plan_dictionary_with_report(
        text, repeatable_forms=repeatable_forms, forms_root=forms_root, keep_dates=keep_dates
    )
    synced = do_sync_forms(actor, files)
    report = DictionaryImportReport(
        synced.published, synced.unchanged, list(imported.notes), imported.report()
    )
    if write_files:
        for form_file in files:
            path = Path(form_file.path)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(
                    yaml.safe_dump(form_file.data, sort_keys=False, allow_unicode=True),
                    encoding="utf-8",
                )
    return report


def export_dictionary(form_names: Sequence[str] = ()) -> str:
    """The latest version of each form (or of the named ones) as a REDCap dictionary CSV."""
    # Forms in the order they were first published, which for an imported project is the
    # order of its dictionary (enrolment first, as everywhere).
    versions = sorted(
        latest_versions(),
        key=lambda version: (form_order_key(version.form.name)[0], version.form.pk),
    )
    if form_names:
        by_name = {version.form.name: version for version in versions}
        unknown = [name for name in form_names if name not in by_name]
        if unknown:
            raise LookupError(
                f"No published form named {', '.join(unknown)}; "
                f"published forms: {', '.join(by_name) or 'none'}."
            )
        versions = [by_name[name] for name in form_names]
    # The record ID comes back as the project had it (write_dictionary reads it from the forms).
    return write_dictionary([schema_of(version) for version in versions])
