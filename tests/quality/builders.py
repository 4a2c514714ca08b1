"""Arranging registry data for the statistics, quality and jobs tests. All of it is synthetic."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from registry.crfs.models import FormVersion
from registry.patients.models import Patient
from registry.people.models import Site
from registry.submissions.models import Status, Submission

_numbers = itertools.count(1)


def patient(
    site: Site, *, sex: str = "male", year_of_birth: int = 2015, pseudonym: str | None = None
) -> Patient:
    return Patient.objects.create(
        site=site,
        pseudonym=pseudonym or f"{site.code}-T{next(_numbers):04d}-00000",
        sex=sex,
        year_of_birth=year_of_birth,
    )


def stored(
    who: Patient,
    form: str,
    data: dict[str, Any],
    *,
    version: int = 1,
    instance: int = 1,
    status: str = Status.COMPLETE,
) -> Submission:
    """A submission stored as given, without validation: what an import or an older release
    might have left in the database, which is what the quality rules exist to find."""
    form_version = FormVersion.objects.select_related("form").get(form__name=form, number=version)
    now = timezone.now()
    return Submission.objects.create(
        patient=who,
        form=form_version.form,
        form_version=form_version,
        instance=instance,
        data=data,
        status=status,
        created_at=now,
        updated_at=now,
    )


ENROLMENT = {
    "enrol_age_months": 36,
    "handedness": "right",
    "consent_registry": "1",
    "consent_recontact": "1",
    "primary_diagnosis": "cmmc",
}
LESION = {
    "lesion_type": "cmmc",
    "lesion_level": "c4",
    "lesion_dx_age_months": 0,
    "nfv_stalk": "1",
    "tumour_present": "0",
}
SURGERY = {"surg_age_days": 10, "procedures": ["mmc_repair"], "lesion_instance": 1}
FOLLOW_UP = {
    "fu_age_months": 40,
    "age_at_last_surgery_days": 10,
    "months_since_surgery": 39.7,
    "fu_status": "alive",
    "fu_mm_status": "persistent",
}
ASSESSMENT = {
    "mm_age_months": 36,
    "mm_present": "1",
    "elicited_by": "both",
    "wt_grade_left_task": "2",
    "mm_classification": "associated",
    "associated_conditions": ["dysraphic"],
}


def clean_patient(site: Site, **overrides: Any) -> Patient:
    """A patient whose forms are all correct: enrolment, a cervical myelomeningocele repaired
    at 10 days, an assessment and a follow-up."""
    who = patient(site, **overrides)
    stored(who, "enrollment", dict(ENROLMENT))
    stored(who, "dysraphic_lesion", dict(LESION))
    stored(who, "surgery", dict(SURGERY))
    stored(who, "mirror_movements", dict(ASSESSMENT), version=2)
    stored(who, "follow_up", dict(FOLLOW_UP))
    return who
