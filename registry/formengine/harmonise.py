"""Lining up the versions of one form, so that data filled against any of them reads as one.

A later version may rename a field (``renamed_from``: its name in the previous version) or
retire it. ``harmonise`` follows those links across all versions and gives every field one
harmonised name (its name in the latest version that has it), so that exports and statistics
can put the answers to the same question in the same column whatever version they came from.

Identity across versions: a field is the same field as the previous version's field it was
renamed from, or else the previous version's field of the same name. A field that is absent
from a version and comes back later under the same name is the same field again.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from registry.formengine.schema import Field, FormSchema

__all__ = ["Harmonisation", "HarmonisationError", "HarmonisedField", "harmonise"]


class HarmonisationError(ValueError):
    """The versions cannot be lined up (different forms, duplicate versions, broken renames)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _empty_mapping() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class HarmonisedField:
    """One question across versions.

    ``names`` maps each version that has the field to its name there; ``field`` is its
    definition in the latest version that has it.
    """

    name: str
    field: Field
    names: Mapping[int, str]
    retired: bool
    """True when the latest version no longer has the field."""

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(self.names)


@dataclass(frozen=True)
class Harmonisation:
    """The union of a form's fields across its versions, in a stable order.

    Fields of the latest version come first, in its order; fields it no longer has follow, the
    most recently dropped first, each group in the order of the last version that had them.
    """

    form: str
    versions: tuple[int, ...]
    fields: tuple[HarmonisedField, ...]
    warnings: tuple[str, ...] = ()
    """Changes worth a look before combining data: types or choices that differ between
    versions, fields dropped without being listed in ``retired``."""
    _by_version: Mapping[int, Mapping[str, str]] = field(
        default_factory=_empty_mapping, repr=False, compare=False
    )

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def name_map(self, version: int) -> Mapping[str, str]:
        """Field name in ``version`` -> harmonised name."""
        try:
            return self._by_version[version]
        except KeyError:
            raise HarmonisationError(
                [
                    f"version {version} of {self.form} is not among the versions harmonised "
                    f"({', '.join(map(str, self.versions))})"
                ]
            ) from None

    def map_data(self, version: int, data: Mapping[str, Any]) -> dict[str, Any]:
        """One submission's data of ``version`` under the harmonised names, in their order.

        A key the version does not have is an error, not dropped: it means the data was not
        validated against that version.
        """
        names = self.name_map(version)
        unknown = sorted(str(key) for key in data if key not in names)
        if unknown:
            raise HarmonisationError(
                [f"{', '.join(unknown)} {_verb(unknown)} of {self.form} version {version}"]
            )
        renamed = {names[key]: value for key, value in data.items()}
        return {name: renamed[name] for name in self.field_names if name in renamed}


@dataclass
class _Chain:
    names: dict[int, str]
    fields: dict[int, Field]


def harmonise(versions: Sequence[FormSchema]) -> Harmonisation:
    """Line up the given versions of one form (in any order); see ``Harmonisation``."""
    ordered = _in_order(versions)
    linker = _Linker()
    for schema in ordered:
        linker.add(schema)
    if linker.problems:
        raise HarmonisationError(linker.problems)
    result = _harmonised_fields(ordered, linker.chains, linker.current)
    numbers = [schema.version for schema in ordered]
    by_version: dict[int, dict[str, str]] = {n: {} for n in numbers}
    for harmonised in result:
        for version, original in harmonised.names.items():
            by_version[version][original] = harmonised.name
    return Harmonisation(
        form=ordered[0].form,
        versions=tuple(numbers),
        fields=tuple(result),
        warnings=tuple(linker.warnings),
        _by_version=MappingProxyType(
            {version: MappingProxyType(names) for version, names in by_version.items()}
        ),
    )


def _in_order(versions: Sequence[FormSchema]) -> list[FormSchema]:
    """The versions, oldest first, once it is sure they are distinct versions of one form."""
    if not versions:
        raise HarmonisationError(["no versions to harmonise"])
    forms = sorted({schema.form for schema in versions})
    if len(forms) > 1:
        raise HarmonisationError([f"the versions belong to different forms: {', '.join(forms)}"])
    ordered = sorted(versions, key=lambda schema: schema.version)
    numbers = [schema.version for schema in ordered]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise HarmonisationError(
            [f"version {', '.join(map(str, repeated))} of {forms[0]} is given more than once"]
        )
    return ordered


class _Linker:
    """Follows each field from version to version, oldest first, as a chain of its names."""

    def __init__(self) -> None:
        self.chains: list[_Chain] = []
        self.current: dict[str, _Chain] = {}  # name in the previous version -> chain
        self.dormant: dict[str, _Chain] = {}  # last name of a chain the previous version lacked
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.previous: FormSchema | None = None

    def add(self, schema: FormSchema) -> None:
        following: dict[str, _Chain] = {}
        claimed: set[int] = set()
        if self.previous is not None:
            self._follow_renames(schema, self.previous, following, claimed)
        self._follow_names(schema, following, claimed)
        for name, chain in following.items():
            chain.names[schema.version] = name
            chain.fields[schema.version] = schema.field(name)
        if self.previous is not None:
            self._put_aside(schema, claimed)
            self.warnings += _changes(self.previous, schema, following, self.current)
        self.current = following
        self.previous = schema

    def _follow_renames(
        self,
        schema: FormSchema,
        previous: FormSchema,
        following: dict[str, _Chain],
        claimed: set[int],
    ) -> None:
        for f in schema.fields:
            if not f.renamed_from:
                continue
            chain = self.current.get(f.renamed_from)
            if chain is None:
                self.problems.append(
                    f"{schema.form} v{schema.version}: {f.name} is renamed from "
                    f"'{f.renamed_from}', which is not a field of v{previous.version}"
                )
                continue
            claimed.add(id(chain))
            following[f.name] = chain

    def _follow_names(
        self, schema: FormSchema, following: dict[str, _Chain], claimed: set[int]
    ) -> None:
        for f in schema.fields:
            if f.name in following:
                continue
            chain = self.current.get(f.name)
            if chain is None or id(chain) in claimed:
                chain = self.dormant.pop(f.name, None)
            if chain is None or id(chain) in claimed:
                chain = _Chain({}, {})
                self.chains.append(chain)
            claimed.add(id(chain))
            following[f.name] = chain

    def _put_aside(self, schema: FormSchema, claimed: set[int]) -> None:
        """The previous version's fields this one does not carry on wait for a comeback."""
        for name, chain in self.current.items():
            if id(chain) in claimed:
                continue
            self.dormant[name] = chain
            if name not in schema.retired:
                self.warnings.append(
                    f"{schema.form} v{schema.version} drops {name} without listing it in retired"
                )


def _harmonised_fields(
    ordered: Sequence[FormSchema], chains: Sequence[_Chain], current: Mapping[str, _Chain]
) -> list[HarmonisedField]:
    """One field per chain: the latest version's first, then those dropped, latest first."""
    latest = ordered[-1].version
    live = [current[f.name] for f in ordered[-1].fields]
    gone = [chain for chain in chains if latest not in chain.names]
    position = {
        (schema.version, f.name): index
        for schema in ordered
        for index, f in enumerate(schema.fields)
    }
    gone.sort(
        key=lambda chain: (
            -max(chain.names),
            position[max(chain.names), chain.names[max(chain.names)]],
        )
    )
    result: list[HarmonisedField] = []
    taken: set[str] = set()
    for chain in [*live, *gone]:
        last = max(chain.names)
        name = chain.names[last]
        if name in taken:
            # An old field whose name a later field took over keeps its data apart.
            name = f"{name}__v{last}"
        taken.add(name)
        result.append(
            HarmonisedField(
                name=name,
                field=chain.fields[last],
                names=MappingProxyType(dict(sorted(chain.names.items()))),
                retired=latest not in chain.names,
            )
        )
    return result


def _changes(
    previous: FormSchema,
    schema: FormSchema,
    following: Mapping[str, _Chain],
    current: Mapping[str, _Chain],
) -> list[str]:
    warnings = []
    old_names = {id(chain): name for name, chain in current.items()}
    for name, chain in following.items():
        old_name = old_names.get(id(chain))
        if old_name is None:
            continue
        old, new = previous.field(old_name), schema.field(name)
        where = f"{schema.form} {name} (v{previous.version} {old_name} -> v{schema.version})"
        if (old.type, old.validation) != (new.type, new.validation):
            warnings.append(f"{where}: type changes from {_kind(old)} to {_kind(new)}")
        elif old.all_choices() != new.all_choices():
            lost = set(old.choice_codes) - set(new.choice_codes)
            detail = f"; codes no longer offered: {', '.join(sorted(lost))}" if lost else ""
            warnings.append(f"{where}: choices change{detail}")
    return warnings


def _kind(f: Field) -> str:
    return f"{f.type} ({f.validation})" if f.validation else f.type


def _verb(names: Sequence[str]) -> str:
    return "is not a field" if len(names) == 1 else "are not fields"


def harmonised_field(harmonisation: Harmonisation, name: str) -> HarmonisedField | None:
    """The field of the lined-up versions that has the harmonised name `name`, if any."""
    return next((h for h in harmonisation.fields if h.name == name), None)


def rename_hint(harmonisation: Harmonisation, name: str) -> str:
    """For a declaration naming a field the form no longer has by that name: the field's new
    name when a version renamed it, else the closest name, if any (text to append)."""
    for harmonised in harmonisation.fields:
        if name in harmonised.names.values():
            return (
                f" (renamed {harmonised.name} in v{max(harmonised.versions)}: name it "
                f"{harmonisation.form}.{harmonised.name})"
            )
    close = difflib.get_close_matches(name, list(harmonisation.field_names), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
