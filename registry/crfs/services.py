"""Publishing form versions from the schema files in `forms/`.

A version is published once and never changes. Publishing a file whose content differs from the
version already published under the same number is refused, and a refused run changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from registry.audit.services import record_event
from registry.formengine.harmonise import HarmonisationError, harmonise
from registry.formengine.schema import (
    FormSchema,
    SchemaError,
    content_hash,
    load_schemas,
    schema_to_dict,
)
from registry.people.models import User

from .field_uses import field_use_problems
from .models import FormDefinition, FormVersion
from .selectors import latest_schemas, schema_of

_FILE_NAME = re.compile(r"^v(?P<number>[1-9][0-9]*)\.ya?ml$")


@dataclass(frozen=True)
class FormFile:
    path: str
    data: dict[str, Any]


@dataclass
class SyncReport:
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class FormSyncError(Exception):
    """Problems that stop a sync, each naming the file it is about. Nothing was changed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def read_form_files(root: Path) -> list[FormFile]:
    """Every `<form>/v<N>.yaml` under `root` (fixtures and other files are not forms)."""
    files = []
    problems = []
    for path in sorted(root.glob("*/v*.y*ml")):
        if not _FILE_NAME.match(path.name):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            problems.append(f"{path}: not valid YAML: {error}")
            continue
        if not isinstance(data, dict):
            problems.append(f"{path}: a form file must hold a mapping (form, version, fields...).")
            continue
        files.append(FormFile(str(path), data))
    if problems:
        raise FormSyncError(problems)
    return files


def _check_file(
    form_file: FormFile, loaded: FormSchema | SchemaError
) -> tuple[FormSchema | None, list[str]]:
    path = Path(form_file.path)
    if isinstance(loaded, SchemaError):
        return None, [f"{path}: {problem}" for problem in loaded.problems]
    schema = loaded
    expected = (path.parent.name, int(_FILE_NAME.match(path.name)["number"]))  # type: ignore[index]
    if (schema.form, schema.version) != expected:
        return None, [
            f"{path}: the file says form {schema.form!r} version {schema.version}, but its place "
            f"says form {expected[0]!r} version {expected[1]}; move the file or correct it."
        ]
    return schema, []


def load_together(files: Sequence[FormFile]) -> list[FormSchema | SchemaError]:
    """The files' schemas (or their problems), each form's logic free to read the fields of
    the others and of the latest published versions of the registry's other forms."""
    documents = [form_file.data for form_file in files]
    names = [data.get("form") for data in documents if isinstance(data, Mapping)]
    return load_schemas(
        documents,
        published=latest_schemas(leaving_out=[name for name in names if isinstance(name, str)]),
    )


@transaction.atomic
def do_sync_forms(actor: User | None, files: Sequence[FormFile]) -> SyncReport:
    """Publish the versions among `files` that are new; refuse the whole run on any problem.

    Versions are compared by meaning (the hash of the checked schema), so comments, key order
    and spelled-out defaults in a file are not changes.
    """
    checked = [
        (form_file, *_check_file(form_file, loaded))
        for form_file, loaded in zip(files, load_together(files), strict=True)
    ]
    problems = [problem for _, _, found in checked for problem in found]
    if problems:
        raise FormSyncError(problems)

    report = SyncReport()
    pending: list[tuple[FormFile, FormSchema]] = []
    for form_file, schema, _ in checked:
        assert schema is not None
        label = f"{schema.form} v{schema.version}"
        existing = FormVersion.objects.filter(form__name=schema.form, number=schema.version).first()
        if existing is None:
            pending.append((form_file, schema))
        elif existing.content_hash == content_hash(schema):
            report.unchanged.append(label)
        else:
            problems.append(
                f"{form_file.path}: {label} is already published with different content. "
                f"A published version never changes: save your edit as version "
                f"{_next_number(schema.form, files)} instead."
            )
    problems += _harmonisation_problems(pending)
    # A new version must not rename or drop a field the quality rules or the clinical
    # statistics read (crfs/field_uses.py).
    problems.extend(field_use_problems([schema for _, schema in pending]))
    if problems:
        raise FormSyncError(problems)

    for form_file, schema in sorted(pending, key=lambda item: item[1].version):
        version = do_publish_form_version(actor, schema, source=form_file.path)
        report.published.append(str(version))
    return report


def _harmonisation_problems(pending: Sequence[tuple[FormFile, FormSchema]]) -> list[str]:
    """New versions must line up with the published ones (renames of fields that exist), or
    every export of the form would fail after publishing."""
    by_form: dict[str, list[tuple[FormFile, FormSchema]]] = {}
    for form_file, schema in pending:
        by_form.setdefault(schema.form, []).append((form_file, schema))
    problems = []
    for form, new in by_form.items():
        published = [schema_of(version) for version in FormVersion.objects.filter(form__name=form)]
        try:
            harmonise([*published, *(schema for _, schema in new)])
        except HarmonisationError as error:
            paths = ", ".join(form_file.path for form_file, _ in new)
            problems += [f"{paths}: {problem}" for problem in error.problems]
    return problems


def _next_number(form_name: str, files: Sequence[FormFile]) -> int:
    published = FormVersion.objects.filter(form__name=form_name).values_list("number", flat=True)
    on_disk = [f.data.get("version", 0) for f in files if f.data.get("form") == form_name]
    numbers: list[int] = [*published, *on_disk, 0]
    return max(numbers) + 1


def do_publish_form_version(
    actor: User | None, schema: FormSchema, *, source: str = ""
) -> FormVersion:
    """Publish one checked schema as a new version of its form, stored in canonical form."""
    digest = content_hash(schema)
    form, _ = FormDefinition.objects.get_or_create(
        name=schema.form, defaults={"title": schema.title}
    )
    version = FormVersion.objects.create(
        form=form,
        number=schema.version,
        schema=schema_to_dict(schema),
        content_hash=digest,
        source=source,
        published_by=actor,
    )
    if not form.versions.filter(number__gt=version.number).exists():
        # The form's title and repeatability are those of its newest version.
        form.title = schema.title
        form.repeatable = schema.repeatable
        form.save(update_fields=["title", "repeatable"])
    record_event(
        actor, "form_version.publish", version, context={"content_hash": digest, "source": source}
    )
    return version
