"""Reads of submissions, always through the access layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from registry.crfs.selectors import forms_of_fields, newest_versions, schema_of
from registry.formengine.schema import Field, FormSchema
from registry.patients.models import Patient
from registry.people.access import sites_in_scope
from registry.people.models import User

from . import choice_limits
from .models import Submission
from .other_forms import other_form_values

if TYPE_CHECKING:
    from registry.crfs.models import FormDefinition


def visible_submissions(user: User) -> QuerySet[Submission]:
    """The submissions `user` may see. Start every submission query here."""
    return Submission.objects.filter(patient__site__in=sites_in_scope(user)).select_related(
        "patient", "form", "form_version"
    )


@dataclass(frozen=True)
class OtherFormAnswer:
    """A value of another form that a form's logic reads, as the data-entry page shows it."""

    form_title: str
    field: Field
    value: Any


def other_form_answers(user: User, patient: Patient, schema: FormSchema) -> list[OtherFormAnswer]:
    """The answers of `patient`'s other forms that `schema`'s logic reads (blank ones too),
    in the order of those forms' fields; nothing for a patient outside `user`'s scope."""
    if not schema.external_fields or not (sites_in_scope(user).filter(pk=patient.site_id).exists()):
        return []
    values = other_form_values([patient.pk], [schema]).get(patient.pk, {})
    holders = forms_of_fields()
    read_forms = {holders.get(name) for name in schema.external_fields}
    answers = []
    for form_id, version in newest_versions().items():
        if form_id not in read_forms:
            continue
        for f in schema_of(version).fields:
            if f.name in schema.external_fields and holders.get(f.name) == version.form_id:
                answers.append(OtherFormAnswer(version.form.title, f, values.get(f.name)))
    return answers


def submission_at(
    user: User, patient: Patient, form: FormDefinition, instance: int | None
) -> Submission:
    """The submission of `patient` on `form` numbered `instance`, as `user` may see it; with
    None, the first (the only one of a form filled once per patient)."""
    return (
        visible_submissions(user)
        .select_related("updated_by")
        .get(patient=patient, form=form, instance=1 if instance is None else instance)
    )


def exhausted_choices(
    user: User, patient: Patient, form: FormDefinition, schema: FormSchema
) -> dict[str, frozenset[str]]:
    """The choices @MAXCHOICE no longer offers `patient` (whom `user` must see), by field.

    The count runs over every record of the registry, as REDCap counts a whole project; what
    the page learns is only that a choice is full, never whose records hold it."""
    if not sites_in_scope(user).filter(pk=patient.site_id).exists():
        return {}
    return choice_limits.exhausted_choices(form, schema, patient.pk)
