"""Enrolling patients through the API: local ID in, pseudonym out, nothing kept of the ID."""

from __future__ import annotations

import pytest

from registry.audit.models import AuditEvent
from registry.patients.models import Patient

pytestmark = pytest.mark.django_db
NEW = {"site": "SITEA", "local_id": "HOSP-000123", "sex": "female", "year_of_birth": 2017}


@pytest.fixture
def client_a(client_for, coordinator_a):
    return client_for(coordinator_a)


def test_enrolment_answers_the_pseudonym_and_never_the_local_id(client_a, registry_forms):
    response = client_a.post("/api/v1/patients/", NEW, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["pseudonym"].startswith("SITEA-") and body["created"] is True
    assert "local_id" not in body and "000123" not in response.content.decode()
    stored = Patient.objects.get()
    assert stored.pseudonym == body["pseudonym"]
    trail = " ".join(str(e.changes) + str(e.context) for e in AuditEvent.objects.all())
    assert "000123" not in trail


def test_enrolling_the_same_local_id_again_finds_the_patient(client_a, registry_forms):
    first = client_a.post("/api/v1/patients/", NEW, format="json").json()
    again = client_a.post("/api/v1/patients/", {**NEW, "local_id": " hosp-000123 "}, format="json")
    assert again.status_code == 200
    assert again.json()["pseudonym"] == first["pseudonym"] and again.json()["created"] is False
    assert Patient.objects.count() == 1


def test_enrolment_errors_name_the_field(client_a, registry_forms):
    response = client_a.post("/api/v1/patients/", {**NEW, "year_of_birth": 3000}, format="json")
    assert response.status_code == 400 and "year_of_birth" in response.json()
    assert not Patient.objects.exists()


def test_patients_filter_by_site(client_for, curator, patient_a, patient_b):
    client = client_for(curator)
    results = client.get("/api/v1/patients/", {"site": "SITEB"}).json()["results"]
    assert [p["pseudonym"] for p in results] == [patient_b.pseudonym]
