"""Submissions through the REST API: the web form's validation, idempotent creation,
optimistic concurrency, locks, filters and the audit of reads."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from registry.audit.models import AuditEvent
from registry.submissions.models import Submission
from tests.exchange.registry_data import ENROLMENT, enrol, save

pytestmark = pytest.mark.django_db
NEW_ASSESSMENT = {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"}


@pytest.fixture
def client_a(client_for, coordinator_a):
    return client_for(coordinator_a)


def test_a_create_posted_twice_with_one_key_makes_one_submission(client_a, patient_a):
    body = {
        "patient": patient_a.pseudonym,
        "form": "mirror_movements",
        "data": NEW_ASSESSMENT,
        "client_uuid": str(uuid.uuid4()),
    }
    first = client_a.post("/api/v1/submissions/", body, format="json")
    again = client_a.post("/api/v1/submissions/", body, format="json")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert (
        Submission.objects.filter(
            patient=patient_a, form__name="mirror_movements", instance=3
        ).count()
        == 1
    )
    assert Submission.objects.filter(patient=patient_a).count() == 4


def test_a_create_answers_with_the_stored_typed_data_and_an_etag(client_a, patient_a):
    response = client_a.post(
        "/api/v1/submissions/",
        {
            "patient": patient_a.pseudonym,
            "form": "mirror_movements",
            "version": 1,
            "status": "complete",
            "data": {"mm_age_months": "61", "mm_present": "0"},
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["data"] == {"mm_age_months": 61, "mm_present": "0"}
    assert (body["version"], body["instance"], body["status"]) == (1, 3, "complete")
    assert response["ETag"] == '"1"'


def test_invalid_data_is_a_400_naming_each_field(client_a, patient_a):
    response = client_a.post(
        "/api/v1/submissions/",
        {
            "patient": patient_a.pseudonym,
            "form": "mirror_movements",
            "status": "complete",
            "data": {"mm_age_months": "three", "shoe_size": 40},
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert "whole number" in errors["mm_age_months"][0]
    assert "shoe_size" in errors and "mm_present" in errors
    assert Submission.objects.filter(patient=patient_a).count() == 3


def test_a_draft_saves_with_required_answers_missing_and_complete_needs_them(client_a, patient_a):
    body = {
        "patient": patient_a.pseudonym,
        "form": "mirror_movements",
        "data": {"mm_age_months": 61},
    }
    for status in ("incomplete", "unverified"):
        draft = client_a.post("/api/v1/submissions/", {**body, "status": status}, format="json")
        assert draft.status_code == 201 and draft.json()["data"] == {"mm_age_months": 61}
    complete = client_a.post("/api/v1/submissions/", {**body, "status": "complete"}, format="json")
    assert complete.status_code == 400 and "is required" in complete.json()["mm_present"][0]
    # A draft still refuses what is wrong, not only what is missing.
    wrong = client_a.post(
        "/api/v1/submissions/", {**body, "data": {"mm_age_months": "x"}}, format="json"
    )
    assert wrong.status_code == 400 and "mm_age_months" in wrong.json()


def test_an_unknown_form_is_named(client_a, patient_a):
    response = client_a.post(
        "/api/v1/submissions/",
        {"patient": patient_a.pseudonym, "form": "shoes", "data": {}},
        format="json",
    )
    assert response.status_code == 400 and "shoes" in response.json()["form"][0]


def test_posting_an_existing_instance_is_a_conflict(client_a, patient_a):
    response = client_a.post(
        "/api/v1/submissions/",
        {
            "patient": patient_a.pseudonym,
            "form": "mirror_movements",
            "instance": 1,
            "data": NEW_ASSESSMENT,
        },
        format="json",
    )
    assert response.status_code == 409
    assert (
        Submission.objects.get(
            patient=patient_a, form__name="mirror_movements", instance=1
        ).row_version
        == 1
    )


def test_reads_carry_the_row_version_as_etag(client_a, patient_a):
    submission = Submission.objects.filter(patient=patient_a).first()
    response = client_a.get(f"/api/v1/submissions/{submission.pk}/")
    assert response.status_code == 200 and response["ETag"] == '"1"'


def test_an_update_with_the_current_version_succeeds(client_a, patient_a):
    submission = Submission.objects.get(patient=patient_a, form__name="enrollment")
    response = client_a.put(
        f"/api/v1/submissions/{submission.pk}/",
        {"data": {**ENROLMENT, "handedness": "left"}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200 and response["ETag"] == '"2"'
    submission.refresh_from_db()
    assert submission.data["handedness"] == "left" and submission.status == "complete"


def test_a_stale_if_match_gets_412_and_changes_nothing(client_a, patient_a):
    submission = Submission.objects.get(patient=patient_a, form__name="enrollment")
    url = f"/api/v1/submissions/{submission.pk}/"
    assert (
        client_a.patch(
            url, {"data": {"handedness": "left"}}, format="json", HTTP_IF_MATCH='"1"'
        ).status_code
        == 200
    )
    stale = client_a.patch(
        url, {"data": {"handedness": "ambidextrous"}}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412
    assert stale.json()["row_version"] == 2 and stale["ETag"] == '"2"'
    submission.refresh_from_db()
    assert submission.data["handedness"] == "left" and submission.row_version == 2


def test_an_update_without_if_match_is_refused(client_a, patient_a):
    submission = Submission.objects.get(patient=patient_a, form__name="enrollment")
    response = client_a.patch(
        f"/api/v1/submissions/{submission.pk}/", {"data": {"handedness": "left"}}, format="json"
    )
    assert response.status_code == 428 and "If-Match" in response.json()["detail"]
    submission.refresh_from_db()
    assert submission.row_version == 1


def test_patch_changes_only_the_named_fields_and_null_clears(client_a, patient_a):
    submission = Submission.objects.get(patient=patient_a, form__name="enrollment")
    response = client_a.patch(
        f"/api/v1/submissions/{submission.pk}/",
        {"data": {"other_diagnoses": None, "edinburgh_score": 80}, "status": "unverified"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == 200
    submission.refresh_from_db()
    assert "other_diagnoses" not in submission.data
    assert submission.data["edinburgh_score"] == 80 and submission.data["handedness"] == "right"
    assert submission.status == "unverified"


def test_a_locked_submission_is_refused_clearly(client_a, patient_a):
    submission = Submission.objects.get(patient=patient_a, form__name="enrollment")
    Submission.objects.filter(pk=submission.pk).update(locked=True)
    response = client_a.patch(
        f"/api/v1/submissions/{submission.pk}/",
        {"data": {"handedness": "left"}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 423 and "locked" in response.json()["detail"]
    submission.refresh_from_db()
    assert submission.data["handedness"] == "right"


def test_update_errors_name_the_field(client_a, patient_a):
    submission = Submission.objects.get(patient=patient_a, form__name="enrollment")
    response = client_a.patch(
        f"/api/v1/submissions/{submission.pk}/",
        {"data": {"edinburgh_score": 300}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 400 and "edinburgh_score" in response.json()


def test_filters_by_form_version_status_and_change_time(client_a, coordinator_a, patient_a):
    def ids(**params):
        return [
            s["instance"] for s in client_a.get("/api/v1/submissions/", params).json()["results"]
        ]

    assert ids(form="mirror_movements") == [1, 2]
    assert ids(form="mirror_movements", version=2) == [2]
    assert ids(form="mirror_movements", status="unverified") == [2]
    moment = timezone.now()
    save(coordinator_a, patient_a, "mirror_movements", {"mm_age_months": 70, "mm_present": "0"})
    assert ids(changed_since=moment.isoformat()) == [3]
    bad = client_a.get("/api/v1/submissions/", {"changed_since": "yesterday"})
    assert bad.status_code == 400 and "changed_since" in bad.json()


def test_lists_are_paginated(client_a, coordinator_a, site_a, registry_forms):
    for n in range(5):
        enrol(coordinator_a, site_a, f"P-{n}")
    page = client_a.get("/api/v1/patients/", {"page_size": 2}).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]


def test_record_level_reads_are_audited(client_a, coordinator_a, patient_a):
    submission = Submission.objects.filter(patient=patient_a).first()
    client_a.get("/api/v1/submissions/")
    client_a.get(f"/api/v1/submissions/{submission.pk}/")
    client_a.get(f"/api/v1/patients/{patient_a.pseudonym}/")
    events = list(AuditEvent.objects.filter(action="api.read").order_by("pk"))
    assert len(events) == 3 and all(event.actor == coordinator_a for event in events)
    assert events[0].context["count"] == 3
    assert events[1].object_id == str(submission.pk)
    assert events[2].object_label == patient_a.pseudonym


def test_researchers_are_refused_submissions_and_pointed_at_exports(
    client_for, coordinator_a, researcher, site_a, registry_forms
):
    patient = enrol(coordinator_a, site_a, "A-0300")
    save(
        coordinator_a,
        patient,
        "enrollment",
        {**ENROLMENT, "genetic_testing": "1", "gene": "other", "gene_other": "ARHGEF7"},
    )
    mine = client_for(coordinator_a).get("/api/v1/submissions/").json()["results"][0]
    assert mine["data"]["gene_other"] == "ARHGEF7" and mine["patient"] == patient.pseudonym
    theirs = client_for(researcher).get("/api/v1/submissions/")
    assert theirs.status_code == 403 and "/api/v1/exports/" in theirs.json()["detail"]
    assert "ARHGEF7" not in theirs.content.decode()


def test_a_moment_with_any_offset_filters_as_that_instant(client_a, patient_a):
    far = client_a.get("/api/v1/submissions/", {"changed_since": "2000-01-01T00:00:00+16:15"})
    assert far.status_code == 200 and far.json()["count"] == 3
    odd = client_a.get("/api/v1/patients/", {"created_since": "0001-01-01T00:00:00+05:00"})
    assert odd.status_code == 400 and "created_since" in odd.json()
