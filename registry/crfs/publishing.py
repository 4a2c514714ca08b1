"""What publishing the files in `forms/` would do, shown to a curator before they confirm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from registry.formengine.compare import VersionDiff, compare_versions
from registry.formengine.schema import FormSchema, SchemaError, content_hash

from .field_uses import field_use_problems
from .models import FormVersion
from .selectors import schema_of
from .services import FormFile, load_together


@dataclass(frozen=True)
class PendingVersion:
    schema: FormSchema
    path: str
    diff: VersionDiff | None  # None for the first version of a new form


@dataclass
class PublicationPlan:
    pending: list[PendingVersion] = field(default_factory=list)
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


def pending_publication(files: Sequence[FormFile]) -> PublicationPlan:
    """The new versions among `files`, each compared with the version before it."""
    plan = PublicationPlan()
    for form_file, loaded in zip(files, load_together(files), strict=True):
        if isinstance(loaded, SchemaError):
            plan.problems.extend(f"{form_file.path}: {problem}" for problem in loaded.problems)
            continue
        schema = loaded
        published = FormVersion.objects.filter(form__name=schema.form)
        same_number = published.filter(number=schema.version).first()
        if same_number is not None:
            if same_number.content_hash == content_hash(schema):
                plan.unchanged += 1
            else:
                plan.problems.append(
                    f"{form_file.path}: {schema.form} v{schema.version} is already published "
                    "with different content; a published version never changes. Save the edit "
                    "as a new version number."
                )
            continue
        previous = published.filter(number__lt=schema.version).order_by("-number").first()
        diff = compare_versions(schema_of(previous), schema) if previous else None
        plan.pending.append(PendingVersion(schema, form_file.path, diff))
    # What publishing would then refuse: a field the statistics or quality rules read, gone.
    plan.problems.extend(field_use_problems([pending.schema for pending in plan.pending]))
    return plan
