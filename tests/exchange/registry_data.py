"""Synthetic registry data shared by the exchange and API tests: the registry's own forms,
and patients at two sites with enrolments and mirror-movement assessments on both versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from registry.crfs.models import FormVersion
from registry.patients.models import Patient
from registry.patients.services import do_enrol_patient
from registry.people.models import User
from registry.submissions.models import Submission
from registry.submissions.services import do_save_submission
from tests.factories import api_token_for, registry_form_versions

ENROLMENT = {
    "enrol_age_months": 30,
    "handedness": "right",
    "consent_registry": "1",
    "consent_recontact": "0",
    "primary_diagnosis": "cmmc",
    "other_diagnoses": "Hydrocephalus, shunted",
}
MM_V1 = {
    "mm_age_months": 36,
    "mm_present": "1",
    "wt_grade": "2",
    "body_regions": ["distal"],
    "neuro_other_findings": "Brisk reflexes on the left",
}
MM_V2 = {
    "mm_age_months": 48,
    "mm_present": "1",
    "wt_grade_left_task": "3",
    "wt_grade_right_task": "1",
    "body_regions": ["distal", "proximal"],
}


@pytest.fixture
def registry_forms(db: None) -> None:
    registry_form_versions()


def version(form: str, number: int | None = None) -> FormVersion:
    versions = FormVersion.objects.filter(form__name=form).order_by("-number")
    return versions.get(number=number) if number else versions.first()


def enrol(
    user: User, site: Any, local_id: str, *, sex: str = "female", year_of_birth: int = 2015
) -> Patient:
    return do_enrol_patient(
        user, site, local_id=local_id, sex=sex, year_of_birth=year_of_birth
    ).patient


def save(
    user: User,
    patient: Patient,
    form: str,
    data: dict[str, Any],
    *,
    number: int | None = None,
    instance: int | None = None,
    status: str = "complete",
) -> Submission:
    return do_save_submission(
        user, patient, version(form, number), data, status=status, instance=instance
    ).submission


@pytest.fixture
def patient_a(registry_forms: None, coordinator_a: User, site_a: Any) -> Patient:
    """A patient of site A with an enrolment and two mirror-movement assessments (v1, v2)."""
    patient = enrol(coordinator_a, site_a, "A-0001")
    save(coordinator_a, patient, "enrollment", ENROLMENT)
    save(coordinator_a, patient, "mirror_movements", MM_V1, number=1)
    save(coordinator_a, patient, "mirror_movements", MM_V2, number=2, status="unverified")
    return patient


@pytest.fixture
def patient_b(registry_forms: None, coordinator_b: User, site_b: Any) -> Patient:
    patient = enrol(coordinator_b, site_b, "B-0001", sex="male", year_of_birth=2012)
    save(coordinator_b, patient, "enrollment", {**ENROLMENT, "handedness": "left"})
    save(coordinator_b, patient, "mirror_movements", MM_V2, number=2)
    return patient


@pytest.fixture
def token_a(coordinator_a: User) -> str:
    return api_token_for(coordinator_a)


@pytest.fixture
def researcher_token(researcher: User) -> str:
    return api_token_for(researcher)


REDCAP_URL = "/redcap/api/"


@dataclass
class Reply:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def redcap_post(token: str, **params: object) -> Reply:
    """POST form-encoded to the REDCap endpoint like PyCap, and read the whole answer
    (streamed or not)."""
    response = Client().post(REDCAP_URL, {"token": token, **params})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Reply(response.status_code, body.decode())
