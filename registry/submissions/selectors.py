"""Reads of submissions, always through the access layer."""

from django.db.models import QuerySet

from registry.people.access import sites_in_scope
from registry.people.models import User

from .models import Submission


def visible_submissions(user: User) -> QuerySet[Submission]:
    """The submissions `user` may see. Start every submission query here."""
    return Submission.objects.filter(patient__site__in=sites_in_scope(user)).select_related(
        "patient", "form", "form_version"
    )
