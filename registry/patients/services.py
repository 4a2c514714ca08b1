"""Enrolling patients. The local hospital ID is hashed here and goes no further."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.audit.actions import Action
from registry.audit.request_context import current_request_id
from registry.audit.services import diff, event_row, record_event, record_events
from registry.copy_insert import insert_all
from registry.people.access import require_data_entry
from registry.people.models import Site, User

from .models import Patient, Sex
from .pseudonym import normalise_local_id
from .selectors import pseudonym_for, with_pseudonyms

# Older ages are themselves identifying (HIPAA Safe Harbor groups everyone over 89).
OLDEST_AGE_ACCEPTED = 89


@dataclass(frozen=True)
class Enrolment:
    patient: Patient
    created: bool


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
                site=site,
                pseudonym=pseudonym,
                sex=sex,
                year_of_birth=year_of_birth,
                created_by=actor,
            )
            record_event(
                actor,
                Action.PATIENT_CREATE,
                patient,
                site=site,
                changes=_enrolment_changes(sex, year_of_birth),
            )
    except IntegrityError:
        # Two people enrolled the same patient at the same moment: the other one won.
        return Enrolment(Patient.objects.get(pseudonym=pseudonym), created=False)
    return Enrolment(patient, created=True)


def _enrolment_changes(sex: str, year_of_birth: int | None) -> dict[str, list[object]]:
    return {"sex": [None, sex], "year_of_birth": [None, year_of_birth]}


@dataclass(frozen=True)
class NewPatient:
    """One patient to enrol in a batch: the arguments of `do_enrol_patient`, as data."""

    site: Site
    local_id: str
    sex: str
    year_of_birth: int | None


class EnrolmentRefused(Exception):
    """Some patients of a batch cannot be enrolled, so none was.

    `errors` maps a patient's position in the batch to field -> messages. No message repeats
    the local ID.
    """

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        self.errors = errors
        count = len(errors)
        super().__init__(
            f"{count} patient{'s' if count != 1 else ''} of the batch cannot be "
            "enrolled; nobody was."
        )


# Keeps the IN lists of the lookups below within every database's parameter limit.
_LOOKUP_CHUNK = 2000


def do_enrol_patients_bulk(actor: User | None, patients: Sequence[NewPatient]) -> list[Enrolment]:
    """Enrol many patients at once: all of them, or none.

    Each one is checked as `do_enrol_patient` checks it, and a local ID enrolled before (or
    twice in the batch) finds that patient. New patients are written with one INSERT, their
    audit events with another. Raises EnrolmentRefused listing every problem, or
    PermissionDenied when `actor` may not enter data for one of the sites. `actor` None is the
    registry's own shell command (the synthetic data generator).
    """
    if actor is not None:
        for site in {patient.site.pk: patient.site for patient in patients}.values():
            require_data_entry(actor, site)
    errors: dict[int, dict[str, list[str]]] = {}
    pseudonyms: list[str] = []
    for index, patient in enumerate(patients):
        problems = _check_demographics(patient.sex, patient.year_of_birth)
        if not normalise_local_id(patient.local_id or ""):
            problems["local_id"] = [
                "Type the patient's local hospital ID; it is hashed, never stored."
            ]
            pseudonyms.append("")
        else:
            pseudonyms.append(pseudonym_for(patient.site, patient.local_id))
        if problems:
            errors[index] = problems
    if errors:
        raise EnrolmentRefused(errors)

    for _attempt in range(3):
        found = _patients_by_pseudonym(set(pseudonyms))
        fresh: dict[str, Patient] = {}
        now = timezone.now()
        for patient, pseudonym in zip(patients, pseudonyms, strict=True):
            if pseudonym not in found and pseudonym not in fresh:
                fresh[pseudonym] = Patient(
                    site=patient.site,
                    pseudonym=pseudonym,
                    sex=patient.sex,
                    year_of_birth=patient.year_of_birth,
                    created_at=now,
                    created_by=actor,
                )
        try:
            with transaction.atomic():
                created = _insert_patients(actor, list(fresh.values()))
            break
        except IntegrityError:
            # Someone enrolled one of these patients at the same moment: look them up again.
            continue
    else:
        raise ValidationError(
            {
                "local_id": [
                    "Others were enrolling the same patients at the same moment; nobody of this "
                    "batch "
                    "was enrolled. Send it again."
                ]
            }
        )
    found.update((patient.pseudonym, patient) for patient in created)
    return [
        Enrolment(found[pseudonym], created=pseudonym in fresh and index == first)
        for index, (pseudonym, first) in enumerate(_first_places(pseudonyms))
    ]


def _first_places(pseudonyms: list[str]) -> list[tuple[str, int]]:
    first: dict[str, int] = {}
    return [
        (pseudonym, first.setdefault(pseudonym, index))
        for index, pseudonym in enumerate(pseudonyms)
    ]


def _patients_by_pseudonym(pseudonyms: set[str]) -> dict[str, Patient]:
    wanted = sorted(pseudonyms)
    found: dict[str, Patient] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        for patient in with_pseudonyms(
            Patient.objects.select_related("site"), wanted[start : start + _LOOKUP_CHUNK]
        ):
            found[patient.pseudonym] = patient
    return found


def _insert_patients(actor: User | None, fresh: list[Patient]) -> list[Patient]:
    if not fresh:
        return []
    rows = insert_all(fresh)
    # The event `do_enrol_patient` records, for one INSERT of them all.
    request_id = current_request_id.get()
    record_events(
        [
            event_row(
                actor,
                Action.PATIENT_CREATE,
                row,
                site_id=row.site_id,
                changes=_enrolment_changes(row.sex, row.year_of_birth),
                at=row.created_at,
                request_id=request_id,
            )
            for row in rows
        ]
    )
    return rows


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
        record_event(
            actor, "patient.update", patient, site=patient.site, changes=diff(before, after)
        )
    return patient
