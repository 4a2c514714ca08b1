"""@MAXCHOICE: a choice no longer offered once enough records of the registry have saved it.

The form engine reads the tag (``ActionTags.maxchoice``) but cannot enforce it: it sees one
submission, and the limit counts records. Here the count is taken over every submission of the
form (all versions, all sites: REDCap counts the whole project), one query per limited field.

A record counts once however many instances chose the code. A record that has saved a code
keeps it (saving its form again is never refused for it), so the limit is reached when the
*other* records holding the code number at least the limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from registry.crfs.models import FormDefinition
from registry.formengine.schema import Field, FormSchema
from registry.people.scoping import unscoped

from .models import Submission

__all__ = ["choice_limit_errors", "exhausted_choices", "limited_fields"]

Holders = dict[tuple[str, str], set[int]]
"""(field, code) -> the patients whose saved answers hold that code."""


def limited_fields(schema: FormSchema) -> list[Field]:
    """The fields of ``schema`` with a @MAXCHOICE."""
    return [f for f in schema.fields if f.tags.maxchoice and f.stores_data]


def _codes(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(code) for code in value]
    return [] if value is None else [str(value)]


def _holders(form: FormDefinition, fields: Iterable[Field]) -> Holders:
    codes: dict[str, set[str]] = {}
    for f in fields:
        codes.setdefault(f.name, set()).update(code for code, _ in f.tags.maxchoice)
    holders: Holders = {(name, code): set() for name, limited in codes.items() for code in limited}
    # The limit is the registry's, not a site's: the count reads every site's records (it
    # learns only how many hold a code, never whose they are).
    with unscoped("@MAXCHOICE counts the records of every site"):
        for name, limited in codes.items():
            rows = (
                Submission.objects.filter(form=form, data__has_key=name)
                .order_by()
                .values_list("patient_id", f"data__{name}")
            )
            for patient_id, value in rows.iterator(chunk_size=2_000):
                for code in _codes(value):
                    if code in limited:
                        holders[(name, code)].add(patient_id)
    return holders


def _exhausted(f: Field, holders: Holders, patient_id: int | None) -> set[str]:
    out = set()
    for code, limit in f.tags.maxchoice:
        held = holders[(f.name, code)]
        if patient_id in held:
            continue
        if len(held) >= limit:
            out.add(code)
    return out


def exhausted_choices(
    form: FormDefinition, schema: FormSchema, patient_id: int | None
) -> dict[str, frozenset[str]]:
    """The choices of each limited field no longer offered to ``patient_id`` (None: a record
    not yet saved), for the data-entry page."""
    fields = limited_fields(schema)
    if not fields:
        return {}
    holders = _holders(form, fields)
    return {
        f.name: frozenset(codes) for f in fields if (codes := _exhausted(f, holders, patient_id))
    }


def choice_limit_errors(
    form: FormDefinition, saves: Sequence[tuple[int, FormSchema, Mapping[str, Any]]]
) -> list[dict[str, list[str]]]:
    """For each (patient id, the version's schema, cleaned data) about to be saved to
    ``form``, in order, the field -> messages of the exhausted choices it picks (an empty dict
    when none). Earlier saves of the list count towards later ones, as they would once
    written, whichever version of the form they are on."""
    limited = {id(schema): limited_fields(schema) for _, schema, _ in saves}
    if not any(limited.values()):
        return [{} for _ in saves]
    holders = _holders(form, (f for fields in limited.values() for f in fields))
    out: list[dict[str, list[str]]] = []
    for patient_id, schema, data in saves:
        fields = limited[id(schema)]
        errors: dict[str, list[str]] = {}
        for f in fields:
            chosen = _codes(data.get(f.name))
            if not chosen:
                continue
            exhausted = _exhausted(f, holders, patient_id)
            limits = dict(f.tags.maxchoice)
            for code in chosen:
                if code in exhausted:
                    label = f.choice_labels.get(code, code)
                    limit = limits[code]
                    errors.setdefault(f.name, []).append(
                        f"{f.display_name}: '{label}' ({code}) is no longer available: it is "
                        f"limited to {limit:,} record{'' if limit == 1 else 's'}, and "
                        f"{len(holders[(f.name, code)]):,} have chosen it. Choose another "
                        "answer."
                    )
        if not errors:
            for f in fields:
                for code in _codes(data.get(f.name)):
                    if (f.name, code) in holders:
                        holders[(f.name, code)].add(patient_id)
        out.append(errors)
    return out
