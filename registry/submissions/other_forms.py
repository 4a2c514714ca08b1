"""What a form's logic reads from the record's other forms.

A form's branching logic and calculations may name a field of another form of the registry
(REDCap's `[dob]` of the enrolment form, read in a later form). The value is the one stored on
the patient's first instance of that form (a form that does not repeat has only the one), or
blank when there is none; docs/form-schema.md gives the rule to form authors. Values are read
in bulk, one query per chunk of patients, and only for forms whose logic reads another form.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from registry.crfs.models import FormVersion
from registry.crfs.selectors import forms_of_fields, schema_of
from registry.formengine.schema import FormSchema
from registry.patients.models import Patient

from .models import Submission

# Keeps the IN lists within every database's parameter limit.
_CHUNK = 2000


def other_form_values(
    patient_ids: Collection[int], schemas: Iterable[FormSchema]
) -> dict[int, dict[str, Any]]:
    """patient id -> {field: stored value} of the fields of other forms that `schemas` read.

    A patient with none of them stored is left out; a field not stored is absent (blank)."""
    names = set().union(*(schema.external_fields for schema in schemas))
    if not names or not patient_ids:
        return {}
    holders = forms_of_fields()
    wanted: dict[int, list[str]] = {}
    for name in names:
        if name in holders:
            wanted.setdefault(holders[name], []).append(name)
    if not wanted:
        return {}
    found: dict[int, dict[str, Any]] = {}
    seen: set[tuple[int, int]] = set()
    ids = sorted(patient_ids)
    for start in range(0, len(ids), _CHUNK):
        rows = (
            Submission.objects.filter(
                patient_id__in=ids[start : start + _CHUNK], form_id__in=list(wanted)
            )
            .order_by("patient_id", "form_id", "instance")
            .values_list("patient_id", "form_id", "data")
        )
        for patient_id, form_id, data in rows:
            if (patient_id, form_id) in seen:
                continue  # a later instance of a repeating form: the first one is read
            seen.add((patient_id, form_id))
            if not isinstance(data, dict):
                continue
            values = {name: data[name] for name in wanted[form_id] if name in data}
            if values:
                found.setdefault(patient_id, {}).update(values)
    return found


class _Item(Protocol):
    @property
    def patient(self) -> Patient: ...
    @property
    def form_version(self) -> FormVersion: ...
    @property
    def instance(self) -> int | None: ...


class _Result(Protocol):
    data: dict[str, Any]


def reads_other_forms(item: _Item) -> bool:
    return bool(schema_of(item.form_version).external_fields)


def batch_other_form_values(
    items: Sequence[_Item],
    results: Sequence[_Result | None],
    readers: Collection[int],
    new_patients: Collection[int] = (),
) -> dict[int, dict[str, Any]]:
    """Item index -> the other forms' values its logic reads, for the items in `readers`.

    What the batch itself saves counts: the first instance of a form saved in the same batch
    (validated already, its cleaned data in `results`) replaces the stored one, so an import
    row holding both the enrolment form and a later form that reads it is judged as a whole.
    """
    if not readers:
        return {}
    stored_ids = {items[index].patient.pk for index in readers} - set(new_patients)
    stored = other_form_values(
        stored_ids, [schema_of(items[index].form_version) for index in readers]
    )
    has_stored = _stored_forms(stored_ids, {item.form_version.form_id for item in items})
    holders = forms_of_fields()
    saved: dict[tuple[int, int], Mapping[str, Any]] = {}
    for index, item in enumerate(items):
        result = results[index]
        if index in readers or result is None:
            continue
        form = item.form_version.form
        key = (item.patient.pk, form.pk)
        first = item.instance == 1 or (
            item.instance is None and (not form.repeatable or key not in has_stored)
        )
        if first and key not in saved:
            saved[key] = result.data
    contexts: dict[int, dict[str, Any]] = {}
    for index in readers:
        item = items[index]
        values = dict(stored.get(item.patient.pk, {}))
        for name in schema_of(item.form_version).external_fields:
            document = saved.get((item.patient.pk, holders.get(name, -1)))
            if document is None:
                continue
            if name in document:
                values[name] = document[name]
            else:
                values.pop(name, None)
        contexts[index] = values
    return contexts


def _stored_forms(patient_ids: Collection[int], form_ids: Collection[int]) -> set[tuple[int, int]]:
    """(patient, form) pairs that have a stored submission."""
    pairs: set[tuple[int, int]] = set()
    ids = sorted(patient_ids)
    for start in range(0, len(ids), _CHUNK):
        pairs.update(
            Submission.objects.filter(
                patient_id__in=ids[start : start + _CHUNK], form_id__in=form_ids
            )
            .values_list("patient_id", "form_id")
            .distinct()
        )
    return pairs
