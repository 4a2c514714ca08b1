"""Many submissions in one request: all or none, errors by position then field, idempotent
on each item's client_uuid, audited like single creates."""

from __future__ import annotations

import uuid

import pytest

from registry.audit.models import AuditEvent
from registry.curation.review import do_lock_submission
from registry.submissions.models import Submission
from tests.exchange.registry_data import ENROLMENT, enrol

pytestmark = pytest.mark.django_db
URL = "/api/v1/submissions/bulk/"
ASSESSMENT = {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"}


@pytest.fixture
def client_a(client_for, coordinator_a):
    return client_for(coordinator_a)


@pytest.fixture
def new_patients(registry_forms, coordinator_a, site_a):
    return [enrol(coordinator_a, site_a, f"BULK-{number}") for number in range(3)]


def enrolments(patients, **extra):
    return [
        {
            "patient": patient.pseudonym,
            "form": "enrollment",
            "data": ENROLMENT,
            "status": "complete",
            **extra,
        }
        for patient in patients
    ]


def test_a_batch_creates_every_submission(client_a, new_patients):
    response = client_a.post(
        URL,
        [
            *enrolments(new_patients),
            {"patient": new_patients[0].pseudonym, "form": "mirror_movements", "data": ASSESSMENT},
        ],
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert [item["form"] for item in body] == ["enrollment"] * 3 + ["mirror_movements"]
    assert body[3]["data"] == {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"}
    assert Submission.objects.filter(patient__in=new_patients).count() == 4


def test_one_bad_item_names_its_position_and_field_and_saves_nothing(client_a, new_patients):
    batch = enrolments(new_patients)
    batch[1] = {**batch[1], "data": {**ENROLMENT, "enrol_age_months": "thirty"}}
    response = client_a.post(URL, batch, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["1"]
    assert "enrol_age_months" in errors["1"]
    assert not Submission.objects.filter(patient__in=new_patients).exists()


def test_an_unknown_form_names_its_position(client_a, new_patients):
    batch = [
        *enrolments(new_patients[:1]),
        {"patient": new_patients[1].pseudonym, "form": "shoes", "data": {}},
    ]
    response = client_a.post(URL, batch, format="json")
    assert response.status_code == 400 and "shoes" in response.json()["1"]["form"][0]
    assert not Submission.objects.filter(patient__in=new_patients).exists()


def test_another_sites_patient_is_not_found_and_nothing_is_saved(client_a, new_patients, patient_b):
    response = client_a.post(URL, enrolments([new_patients[0], patient_b]), format="json")
    assert response.status_code == 404
    assert "Item 1" in response.json()["detail"]
    assert not Submission.objects.filter(patient=new_patients[0]).exists()


def test_researchers_cannot_create(client_for, researcher, new_patients):
    response = client_for(researcher).post(URL, enrolments(new_patients), format="json")
    assert response.status_code == 403
    assert not Submission.objects.filter(patient__in=new_patients).exists()


def test_a_batch_sent_again_with_its_keys_makes_no_duplicates(client_a, new_patients):
    batch = enrolments(new_patients)
    for item in batch:
        item["client_uuid"] = str(uuid.uuid4())
    first = client_a.post(URL, batch, format="json")
    again = client_a.post(URL, batch, format="json")
    assert first.status_code == again.status_code == 201
    assert [item["id"] for item in again.json()] == [item["id"] for item in first.json()]
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.filter(patient__in=new_patients).count() == 3


def test_each_created_submission_is_audited(client_a, coordinator_a, new_patients):
    response = client_a.post(URL, enrolments(new_patients), format="json")
    ids = {str(item["id"]) for item in response.json()}
    events = AuditEvent.objects.filter(action="submission.create", object_id__in=ids)
    assert events.count() == 3
    assert {event.actor_id for event in events} == {coordinator_a.pk}
    assert all(event.context["form"] == "enrollment" for event in events)


def test_an_existing_instance_is_a_conflict(client_a, patient_a):
    response = client_a.post(
        URL,
        [
            {
                "patient": patient_a.pseudonym,
                "form": "mirror_movements",
                "instance": 1,
                "data": ASSESSMENT,
            }
        ],
        format="json",
    )
    assert response.status_code == 409 and "exists" in response.json()["0"]["instance"][0]


def test_a_locked_instance_is_refused_as_locked(client_a, curator, patient_a):
    submission = Submission.objects.get(
        patient=patient_a, form__name="mirror_movements", instance=1
    )
    do_lock_submission(curator, submission)
    response = client_a.post(
        URL,
        [
            {
                "patient": patient_a.pseudonym,
                "form": "mirror_movements",
                "instance": 1,
                "data": ASSESSMENT,
            }
        ],
        format="json",
    )
    assert response.status_code == 423 and "locked" in response.json()["0"]["instance"][0]


def test_too_large_a_batch_is_refused_with_the_limit(client_a, new_patients):
    batch = enrolments(new_patients[:1]) * 1001
    response = client_a.post(URL, batch, format="json")
    assert response.status_code == 400
    assert "At most 1000" in response.json()["detail"][0]


def test_a_body_that_is_not_a_list_is_refused(client_a, new_patients):
    response = client_a.post(URL, enrolments(new_patients)[0], format="json")
    assert response.status_code == 400 and "JSON list" in response.json()["detail"][0]


def test_the_endpoint_is_in_the_openapi_schema(client_a):
    schema = client_a.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/submissions/bulk/"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert {"201", "400", "404", "423"} <= set(operation["responses"])


@pytest.mark.parametrize("item", [None, 5, "enrollment", ["a"]])
def test_an_item_that_is_not_an_object_is_refused_by_position(client_a, new_patients, item):
    response = client_a.post(URL, [*enrolments(new_patients[:1]), item], format="json")
    assert response.status_code == 400
    assert "is an object" in response.json()["1"]["non_field_errors"][0]
    assert not Submission.objects.filter(patient__in=new_patients).exists()


def test_the_batch_size_is_in_the_schema(client_a):
    schema = client_a.get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/submissions/bulk/"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["minItems"] == 1
    assert body["content"]["application/json"]["schema"]["maxItems"] == 1000
