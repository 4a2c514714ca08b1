"""What changed between two versions of a form, in words a curator can check before publishing."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.formengine.schema import Field, FormSchema

__all__ = ["Effect", "FieldChange", "VersionDiff", "compare_versions", "describe_effects"]

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
        return not (self.added or self.removed or self.renamed or self.changed or self.form_changes)


def compare_versions(old: FormSchema, new: FormSchema) -> VersionDiff:
    """Fields added, removed (retired), renamed, and changed from `old` to `new`.

    A field of `new` with `renamed_from` naming a field of `old` is that field renamed;
    otherwise fields are matched by name.
    """
    if old.form != new.form:
        raise ValueError(f"{old.form} and {new.form} are different forms.")
    old_fields = {f.name: f for f in old.fields}
    renamed = tuple(
        (f.renamed_from, f.name)
        for f in new.fields
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
    return VersionDiff(
        old.version, new.version, added, removed, renamed, tuple(changed), tuple(form_changes)
    )


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


@dataclass(frozen=True)
class Effect:
    """One change between two versions, and what it means for the submissions already filled.

    ``field`` is the field's name in the new version (its old name for a removed field, empty
    for a change to the form as a whole); ``change`` names the kind of change (added, removed,
    renamed, type changed, choices changed, ...), ``detail`` what exactly changed, and
    ``effect`` in plain words what it does to existing submissions and to the data as
    exports and statistics combine it across versions.
    """

    field: str
    change: str
    detail: str
    effect: str


# A submission stays on the version it was filled on (it is validated, shown and edited with
# that version's rules), so no change rewrites stored answers: what a change does to existing
# submissions is how their answers line up beside the new version's in exports and statistics.
_KEPT = (
    "Existing submissions keep the answers they have and the rules of the version they "
    "were filled on"
)

_ATTRIBUTE_EFFECTS = (
    (
        "label",
        "label changed",
        "Wording only: stored answers are unchanged and are shown beside new ones in one column. "
        "Check that the question still asks the same thing.",
    ),
    ("section", "section header changed", "Layout only: no effect on stored answers."),
    ("note", "field note changed", "Wording only: no effect on stored answers."),
    (
        "validation",
        "validation changed",
        f"{_KEPT}; values entered before are not checked again against the new validation.",
    ),
    ("min", "minimum changed", f"{_KEPT}; values entered before are not checked again."),
    ("max", "maximum changed", f"{_KEPT}; values entered before are not checked again."),
    ("pattern", "pattern changed", f"{_KEPT}; values entered before are not checked again."),
    ("required", "required changed", f"{_KEPT}; submissions that left it blank stay as they are."),
    (
        "show_if",
        "branching logic changed",
        f"{_KEPT}: answers given (or left hidden) under the old logic stay as they are.",
    ),
    (
        "calc",
        "calculation changed",
        "Values calculated before keep the old formula's result; new submissions are calculated "
        "with the new one, so the column mixes both.",
    ),
    ("matrix_group", "matrix group changed", "Layout only: no effect on stored answers."),
    (
        "limits",
        "plausible range changed",
        "Data-quality runs flag values outside the new range on new submissions; stored answers "
        "are unchanged.",
    ),
    (
        "annotations",
        "ontology codes changed",
        "Exports that carry ontology codes use the new ones; stored answers are unchanged.",
    ),
)


def describe_effects(old: FormSchema, new: FormSchema) -> tuple[Effect, ...]:
    """Every change from `old` to `new` (as `compare_versions` finds them), each with what it
    does to the submissions filled on `old` and earlier."""
    diff = compare_versions(old, new)
    effects: list[Effect] = []
    if old.title != new.title:
        effects.append(
            Effect(
                "",
                "title changed",
                f"{old.title!r} → {new.title!r}",
                "Pages and exports show the new title; no answer changes.",
            )
        )
    if old.repeatable != new.repeatable:
        if new.repeatable:
            effects.append(
                Effect(
                    "",
                    "now repeatable",
                    "the form may be filled more than once per patient",
                    "Each patient's existing submission is their instance 1; more can be added.",
                )
            )
        else:
            effects.append(
                Effect(
                    "",
                    "no longer repeatable",
                    "the form is filled once per patient",
                    "Existing instances are all kept; no new instance can be added.",
                )
            )
    if old.checks != new.checks:
        effects.append(
            Effect(
                "",
                "save-blocking checks changed",
                "",
                f"{_KEPT}; the new checks apply to new submissions only.",
            )
        )
    if old.missing_codes != new.missing_codes:
        effects.append(
            Effect(
                "",
                "missing-data codes changed",
                "",
                "Codes already stored keep their meaning; new submissions may use only the new "
                "codes.",
            )
        )
    for name in diff.added:
        effects.append(
            Effect(
                name,
                "added",
                _field_summary(new.fields_by_name[name]),
                "Existing submissions have no answer for it (blank in exports); only submissions "
                "filled on the new version ask it.",
            )
        )
    for name in diff.removed:
        listed = name in new.retired
        effects.append(
            Effect(
                name,
                "removed",
                "listed in retired" if listed else "not listed in retired",
                "Answers already given are kept with their version and stay in exports (as a "
                "retired column); new submissions no longer ask it."
                + (
                    ""
                    if listed
                    else " Exports will warn that it was dropped without being "
                    "listed in retired: list it there if that is intended."
                ),
            )
        )
    for old_name, new_name in diff.renamed:
        effects.append(
            Effect(
                new_name,
                "renamed",
                f"{old_name} → {new_name}",
                f"Answers given to {old_name} carry over: exports and statistics show them under "
                f"{new_name}, in one column with the new answers.",
            )
        )
    old_by_new = {new_name: old_name for old_name, new_name in diff.renamed}
    for change in diff.changed:
        before = old.fields_by_name[old_by_new.get(change.name, change.name)]
        effects.extend(_field_effects(before, new.fields_by_name[change.name]))
    return tuple(effects)


def _field_summary(f: Field) -> str:
    kind = f.type + (f" ({f.validation})" if f.validation else "")
    return f"{kind}: {f.label}" if f.label else kind


def _field_effects(old: Field, new: Field) -> list[Effect]:
    effects = []
    if old.type != new.type:
        effects.append(
            Effect(
                new.name,
                "changed type",
                f"{old.type} → {new.type}",
                "Answers already given keep their old type and are not converted; exports put old "
                "and new answers in one column, so check that they can be read together.",
            )
        )
    if old.identifier != new.identifier:
        effects.append(
            Effect(
                new.name,
                "identifier flag changed",
                f"{old.identifier} → {new.identifier}",
                "From the new version on, no value is stored for it; answers given before stay "
                "with their version."
                if new.identifier
                else "New submissions store a value for it; earlier submissions have none.",
            )
        )
    for attribute, change, effect in _ATTRIBUTE_EFFECTS:
        if getattr(old, attribute) != getattr(new, attribute):
            effects.append(
                Effect(
                    new.name,
                    change,
                    f"{_shown(getattr(old, attribute))} → {_shown(getattr(new, attribute))}",
                    effect,
                )
            )
    old_choices, new_choices = dict(old.all_choices()), dict(new.all_choices())
    for code, label in new_choices.items():
        if code not in old_choices:
            effects.append(
                Effect(
                    new.name,
                    "choice added",
                    f"{code} ({label})",
                    "Submissions filled before could not choose it.",
                )
            )
        elif old_choices[code] != label:
            effects.append(
                Effect(
                    new.name,
                    "choice relabelled",
                    f"{code}: {old_choices[code]!r} → {label!r}",
                    f"Answers stored as {code} are the same answer under the new label: exports "
                    "that combine versions show the new label for all of them. Make sure the "
                    "meaning did not change.",
                )
            )
    for code, label in old_choices.items():
        if code not in new_choices:
            effects.append(
                Effect(
                    new.name,
                    "choice removed",
                    f"{code} ({label})",
                    f"Answers stored as {code} are kept with their version and still shown as "
                    f"{label!r}; new submissions cannot choose it.",
                )
            )
    return effects
