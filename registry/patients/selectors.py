"""Reads of patients, always through the access layer."""

from django.db.models import QuerySet

from registry.people.access import in_data_entry_sites, note_data_entry, sites_in_scope
from registry.people.models import User

from .models import Patient


def visible_patients(user: User) -> QuerySet[Patient]:
    """The patients `user` may see. Start every patient query here."""
    return Patient.objects.filter(site__in=sites_in_scope(user)).select_related("site")


def patient_for_data_entry(user: User, pseudonym: str) -> Patient | None:
    """The patient `user` may enter data for, found by pseudonym, or None (unknown, or at a site
    outside their data entry) — one query for the lookup and the site check together."""
    try:
        patient = Patient.objects.select_related("site").get(
            in_data_entry_sites(user), pseudonym=pseudonym)
    except Patient.DoesNotExist:
        return None
    note_data_entry(user, patient.site)
    return patient
