"""Declarations that read forms' fields by name, checked before a form version is published.

The quality rules (forms/quality_rules.yaml) and the clinical statistics (forms/statistics.yaml)
name the fields they read. A new version that renames or drops such a field would silently
empty a table or blind a rule; instead `do_sync_forms` asks every declaration registered here
whether it still finds its fields in the forms as they would be after publishing, and refuses
the whole run on any problem. The apps that own the declarations sit above crfs, so they
register their checks from their AppConfig.ready.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from registry.formengine.harmonise import Harmonisation, HarmonisationError, harmonise
from registry.formengine.schema import FormSchema

from .models import FormVersion
from .selectors import schema_of

# (every form's harmonisation after publishing, the forms a version is published of) ->
# problems, each naming the declaration's file, its rule or table, and the field.
FieldUseCheck = Callable[[Mapping[str, Harmonisation], Collection[str]], list[str]]

_CHECKS: dict[str, FieldUseCheck] = {}


def register_field_use_check(name: str, check: FieldUseCheck) -> None:
    _CHECKS[name] = check


def harmonisations_after(pending: Sequence[FormSchema]) -> dict[str, Harmonisation]:
    """Every form's versions lined up as they would be with `pending` published too.

    A form whose versions cannot be lined up is left out: the declarations cannot be checked
    against it, and the exports and statistics report it themselves.
    """
    by_form: dict[str, list[FormSchema]] = {}
    for version in FormVersion.objects.select_related("form").order_by("form_id", "number"):
        by_form.setdefault(version.form.name, []).append(schema_of(version))
    for schema in pending:
        by_form.setdefault(schema.form, []).append(schema)
    lined_up = {}
    for form, schemas in by_form.items():
        try:
            lined_up[form] = harmonise(schemas)
        except HarmonisationError:
            continue
    return lined_up


def field_use_problems(pending: Sequence[FormSchema]) -> list[str]:
    """What publishing `pending` would break in the declarations that read fields by name."""
    if not pending or not _CHECKS:
        return []
    after = harmonisations_after(pending)
    changed = {schema.form for schema in pending}
    return [problem for check in _CHECKS.values() for problem in check(after, changed)]
