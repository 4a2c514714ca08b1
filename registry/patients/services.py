"""Enrolling patients. The local hospital ID is hashed here and goes no further."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.audit.services import diff, record_event
from registry.people.access import require_data_entry
from registry.people.models import Site, User

from .models import Patient, Sex
from .pseudonym import make_pseudonym, normalise_local_id

# Older ages are themselves identifying (HIPAA Safe Harbor groups everyone over 89).
OLDEST_AGE_ACCEPTED = 89


@dataclass(frozen=True)
class Enrolment:
    patient: Patient
    created: bool


def pseudonym_for(site: Site, local_id: str) -> str:
    return make_pseudonym(settings.REGISTRY_PSEUDONYM_KEY, site.code, local_id)


def _check_demographics(sex: str, year_of_birth: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if sex not in Sex.values:
        errors["sex"] = [f"Choose one of: {', '.join(Sex.values)}."]
    this_year = timezone.now().year
    if year_of_birth is None:
        errors["year_of_birth"] = ["Year of birth is required (four digits, e.g. 2016)."]
    elif year_of_birth > this_year:
        errors["year_of_birth"] = [f"Year of birth {year_of_birth} is in the future."]
    elif year_of_birth < this_year - OLDEST_AGE_ACCEPTED:
        errors["year_of_birth"] = [
            f"Year of birth {year_of_birth} is more than {OLDEST_AGE_ACCEPTED} years ago; "
            "the registry does not record such ages because they identify people."
        ]
    return errors


def do_enrol_patient(
    actor: User, site: Site, *, local_id: str, sex: str, year_of_birth: int | None
) -> Enrolment:
    """Enrol a patient, or find the one already enrolled under the same local ID at `site`."""
    require_data_entry(actor, site)
    errors = _check_demographics(sex, year_of_birth)
    if not normalise_local_id(local_id or ""):
        errors["local_id"] = ["Type the patient's local hospital ID; it is hashed, never stored."]
    if errors:
        raise ValidationError(errors)
    pseudonym = pseudonym_for(site, local_id)
    existing = Patient.objects.filter(pseudonym=pseudonym).first()
    if existing is not None:
        return Enrolment(existing, created=False)
    try:
        with transaction.atomic():
            patient = Patient.objects.create(
                site=site, pseudonym=pseudonym, sex=sex, year_of_birth=year_of_birth,
                created_by=actor,
            )
            record_event(
                actor, "patient.create", patient, site=site,
                changes={"sex": [None, sex], "year_of_birth": [None, year_of_birth]},
            )
    except IntegrityError:
        # Two people enrolled the same patient at the same moment: the other one won.
        return Enrolment(Patient.objects.get(pseudonym=pseudonym), created=False)
    return Enrolment(patient, created=True)


def do_update_patient(actor: User, patient: Patient, *, sex: str, year_of_birth: int) -> Patient:
    require_data_entry(actor, patient.site)
    errors = _check_demographics(sex, year_of_birth)
    if errors:
        raise ValidationError(errors)
    before = {"sex": patient.sex, "year_of_birth": patient.year_of_birth}
    after = {"sex": sex, "year_of_birth": year_of_birth}
    with transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(**after)
        patient.sex, patient.year_of_birth = sex, year_of_birth
        record_event(actor, "patient.update", patient, site=patient.site,
                     changes=diff(before, after))
    return patient
