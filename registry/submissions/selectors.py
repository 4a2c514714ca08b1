"""Reads of submissions, always through the access layer."""

from django.db.models import QuerySet

from registry.crfs.models import FormDefinition
from registry.formengine.schema import FormSchema
from registry.patients.models import Patient
from registry.people.access import sites_in_scope
from registry.people.models import User

from . import choice_limits
from .models import Submission


def visible_submissions(user: User) -> QuerySet[Submission]:
    """The submissions `user` may see. Start every submission query here."""
    return Submission.objects.filter(patient__site__in=sites_in_scope(user)).select_related(
        "patient", "form", "form_version"
    )


def exhausted_choices(user: User, patient: Patient, form: FormDefinition,
                      schema: FormSchema) -> dict[str, frozenset[str]]:
    """The choices @MAXCHOICE no longer offers `patient` (whom `user` must see), by field.

    The count runs over every record of the registry, as REDCap counts a whole project; what
    the page learns is only that a choice is full, never whose records hold it."""
    if not sites_in_scope(user).filter(pk=patient.site_id).exists():
        return {}
    return choice_limits.exhausted_choices(form, schema, patient.pk)
