"""Reads of submissions, always through the access layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from registry.people.access import sites_in_scope
from registry.people.models import User

from .models import Submission

if TYPE_CHECKING:
    from registry.crfs.models import FormDefinition
    from registry.patients.models import Patient


def visible_submissions(user: User) -> QuerySet[Submission]:
    """The submissions `user` may see. Start every submission query here."""
    return Submission.objects.filter(patient__site__in=sites_in_scope(user)).select_related(
        "patient", "form", "form_version"
    )


def submission_at(user: User, patient: Patient, form: FormDefinition,
                  instance: int | None) -> Submission:
    """The submission of `patient` on `form` numbered `instance`, as `user` may see it."""
    return visible_submissions(user).select_related("updated_by").get(
        patient=patient, form=form, instance=instance)
