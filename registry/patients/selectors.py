"""Reads of patients, always through the access layer."""

from django.db.models import QuerySet

from registry.people.access import sites_in_scope
from registry.people.models import User

from .models import Patient


def visible_patients(user: User) -> QuerySet[Patient]:
    """The patients `user` may see. Start every patient query here."""
    return Patient.objects.filter(site__in=sites_in_scope(user)).select_related("site")
