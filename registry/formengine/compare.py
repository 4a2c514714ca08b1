"""What changed between two versions of a form, in words a curator can check before publishing."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.formengine.schema import Field, FormSchema

__all__ = ["FieldChange", "VersionDiff", "compare_versions"]

# The attributes of a field worth naming when they change, with their plain names.
_COMPARED = (
    ("type", "type"),
    ("label", "label"),
    ("section", "section header"),
    ("note", "field note"),
    ("validation", "validation"),
    ("min", "minimum"),
    ("max", "maximum"),
    ("pattern", "pattern"),
    ("required", "required"),
    ("identifier", "identifier flag"),
    ("show_if", "branching logic"),
    ("calc", "calculation"),
    ("matrix_group", "matrix group"),
    ("limits", "plausible range"),
    ("annotations", "ontology codes"),
)


@dataclass(frozen=True)
class FieldChange:
    name: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class VersionDiff:
    old_version: int
    new_version: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    changed: tuple[FieldChange, ...] = ()
    form_changes: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.changed
                    or self.form_changes)


def compare_versions(old: FormSchema, new: FormSchema) -> VersionDiff:
    """Fields added, removed (retired), renamed, and changed from `old` to `new`.

    A field of `new` with `renamed_from` naming a field of `old` is that field renamed;
    otherwise fields are matched by name.
    """
    if old.form != new.form:
        raise ValueError(f"{old.form} and {new.form} are different forms.")
    old_fields = {f.name: f for f in old.fields}
    renamed = tuple(
        (f.renamed_from, f.name) for f in new.fields
        if f.renamed_from in old_fields and f.renamed_from not in new.fields_by_name
    )
    carried = {old_name: new_name for old_name, new_name in renamed}
    carried.update({name: name for name in old_fields if name in new.fields_by_name})

    added = tuple(f.name for f in new.fields if f.name not in carried.values())
    removed = tuple(name for name in old_fields if name not in carried)
    changed = []
    for old_name, new_name in carried.items():
        changes = _field_changes(old_fields[old_name], new.fields_by_name[new_name])
        if changes:
            changed.append(FieldChange(new_name, changes))

    form_changes = []
    if old.title != new.title:
        form_changes.append(f"title: {old.title!r} → {new.title!r}")
    if old.repeatable != new.repeatable:
        form_changes.append("now repeatable" if new.repeatable else "no longer repeatable")
    if old.checks != new.checks:
        form_changes.append("save-blocking checks changed")
    if old.missing_codes != new.missing_codes:
        form_changes.append("missing-data codes changed")
    return VersionDiff(old.version, new.version, added, removed, renamed, tuple(changed),
                       tuple(form_changes))


def _field_changes(old: Field, new: Field) -> tuple[str, ...]:
    changes = [
        f"{label}: {_shown(getattr(old, attribute))} → {_shown(getattr(new, attribute))}"
        for attribute, label in _COMPARED
        if getattr(old, attribute) != getattr(new, attribute)
    ]
    old_choices, new_choices = dict(old.all_choices()), dict(new.all_choices())
    for code, label in new_choices.items():
        if code not in old_choices:
            changes.append(f"choice added: {code} ({label})")
        elif old_choices[code] != label:
            changes.append(f"choice {code} relabelled: {old_choices[code]!r} → {label!r}")
    changes.extend(
        f"choice removed: {code} ({label})"
        for code, label in old_choices.items()
        if code not in new_choices
    )
    return tuple(changes)


def _shown(value: object) -> str:
    if value in ("", None, ()):
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(getattr(item, "code", str(item)) for item in value)
    return repr(value) if isinstance(value, str) else str(value)
