"""Who reaches what through the REST API: every endpoint, every kind of refusal."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.audit.models import AuditEvent
from registry.curation.models import DataQuery, DataQueryMessage
from registry.jobs.models import JobKind, JobRun
from registry.people.models import ApiToken
from registry.submissions.models import Submission
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db

EVERY_ENDPOINT = [
    ("get", "/api/v1/sites/"),
    ("get", "/api/v1/sites/SITEA/"),
    ("get", "/api/v1/forms/"),
    ("get", "/api/v1/forms/enrollment/"),
    ("get", "/api/v1/forms/enrollment/versions/"),
    ("get", "/api/v1/forms/enrollment/versions/1/"),
    ("get", "/api/v1/patients/"),
    ("post", "/api/v1/patients/"),
    ("get", "/api/v1/patients/SITEA-00000-00000/"),
    ("get", "/api/v1/submissions/"),
    ("post", "/api/v1/submissions/"),
    ("get", "/api/v1/submissions/1/"),
    ("put", "/api/v1/submissions/1/"),
    ("patch", "/api/v1/submissions/1/"),
    ("get", "/api/v1/queries/"),
    ("get", "/api/v1/queries/1/"),
    ("get", "/api/v1/exports/flat-csv/"),
    ("post", "/api/v1/exports/jobs/"),
    ("get", "/api/v1/exports/jobs/1/"),
    ("get", "/api/v1/exports/jobs/1/file/"),
    ("get", "/api/v1/tokens/"),
    ("post", "/api/v1/tokens/"),
    ("get", "/api/v1/tokens/1/"),
    ("delete", "/api/v1/tokens/1/"),
]


@pytest.mark.parametrize(("method", "url"), EVERY_ENDPOINT)
def test_every_endpoint_refuses_strangers(method, url, registry_forms):
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(("method", "url"), EVERY_ENDPOINT)
def test_every_endpoint_refuses_an_unknown_token(method, url, registry_forms):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "Z" * 32)
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 401
    assert "unknown, expired or revoked" in response.json()["detail"]


@pytest.fixture
def site_b_objects(patient_b, coordinator_b, curator):
    submission = Submission.objects.filter(patient=patient_b).first()
    query = DataQuery.objects.create(submission=submission, field="handedness", opened_by=curator)
    DataQueryMessage.objects.create(
        query=query, author=curator, kind="question", text="Please confirm the handedness."
    )
    job = JobRun.objects.create(
        kind=JobKind.EXPORT, requested_by=coordinator_b, parameters={"shape": "flat-csv"}
    )
    api_token_for(coordinator_b)
    return {
        "submission": submission,
        "query": query,
        "job": job,
        "token": ApiToken.objects.get(user=coordinator_b),
    }


@pytest.fixture
def client_a(client_for, coordinator_a):
    return client_for(coordinator_a)


def test_another_sites_objects_are_not_found(client_a, patient_a, patient_b, site_b_objects):
    submission, query = site_b_objects["submission"], site_b_objects["query"]
    urls = [
        "/api/v1/sites/SITEB/",
        f"/api/v1/patients/{patient_b.pseudonym}/",
        f"/api/v1/submissions/{submission.pk}/",
        f"/api/v1/queries/{query.pk}/",
        f"/api/v1/exports/jobs/{site_b_objects['job'].pk}/",
        f"/api/v1/exports/jobs/{site_b_objects['job'].pk}/file/",
        f"/api/v1/tokens/{site_b_objects['token'].pk}/",
    ]
    for url in urls:
        assert client_a.get(url).status_code == 404, url


def test_another_sites_objects_cannot_be_written(client_a, patient_a, site_b_objects, patient_b):
    submission = site_b_objects["submission"]
    url = f"/api/v1/submissions/{submission.pk}/"
    change = {"data": {"handedness": "right"}}
    assert client_a.patch(url, change, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    assert client_a.put(url, change, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    created = client_a.post(
        "/api/v1/submissions/",
        {
            "patient": patient_b.pseudonym,
            "form": "mirror_movements",
            "data": {"mm_age_months": 3, "mm_present": "0"},
        },
        format="json",
    )
    assert created.status_code == 404
    enrolled = client_a.post(
        "/api/v1/patients/",
        {"site": "SITEB", "local_id": "B-77", "sex": "male", "year_of_birth": 2010},
        format="json",
    )
    assert enrolled.status_code == 404
    revoked = client_a.delete(f"/api/v1/tokens/{site_b_objects['token'].pk}/")
    assert revoked.status_code == 404
    assert (
        site_b_objects["token"].__class__.objects.get(pk=site_b_objects["token"].pk).revoked_at
        is None
    )
    submission.refresh_from_db()
    assert submission.row_version == 1


def test_lists_never_include_another_sites_records(client_a, patient_a, site_b_objects, patient_b):
    sites = client_a.get("/api/v1/sites/").json()["results"]
    assert [site["code"] for site in sites] == ["SITEA"]
    patients = client_a.get("/api/v1/patients/").json()["results"]
    assert [p["pseudonym"] for p in patients] == [patient_a.pseudonym]
    submissions = client_a.get("/api/v1/submissions/", {"page_size": 1000}).json()["results"]
    assert {s["patient"] for s in submissions} == {patient_a.pseudonym}
    assert client_a.get("/api/v1/queries/").json()["results"] == []
    assert client_a.get("/api/v1/tokens/").json()["count"] == 1  # the client's own
    export = b"".join(client_a.get("/api/v1/exports/flat-csv/").streaming_content).decode()
    assert patient_a.pseudonym in export and patient_b.pseudonym not in export
    filtered = client_a.get("/api/v1/submissions/", {"site": "SITEB"}).json()
    assert filtered["count"] == 0


def test_researchers_cannot_write(client_for, researcher, patient_a):
    client = client_for(researcher)
    submission = Submission.objects.filter(patient=patient_a).first()
    attempts = [
        client.post(
            "/api/v1/patients/",
            {"site": "SITEA", "local_id": "R-1", "sex": "male", "year_of_birth": 2010},
            format="json",
        ),
        client.post(
            "/api/v1/submissions/",
            {
                "patient": patient_a.pseudonym,
                "form": "mirror_movements",
                "data": {"mm_age_months": 3},
            },
            format="json",
        ),
        client.put(
            f"/api/v1/submissions/{submission.pk}/",
            {"data": {}},
            format="json",
            HTTP_IF_MATCH='"1"',
        ),
        client.patch(
            f"/api/v1/submissions/{submission.pk}/",
            {"data": {}},
            format="json",
            HTTP_IF_MATCH='"1"',
        ),
    ]
    assert [response.status_code for response in attempts] == [403, 403, 403, 403]
    assert all("through releases" in response.json()["detail"] for response in attempts)
    submission.refresh_from_db()
    assert submission.row_version == 1


def test_researchers_read_records_only_through_releases(client_for, researcher, patient_a):
    client = client_for(researcher)
    submission = Submission.objects.filter(patient=patient_a).first()
    refused = [
        client.get(url)
        for url in (
            "/api/v1/patients/",
            f"/api/v1/patients/{patient_a.pseudonym}/",
            "/api/v1/submissions/",
            f"/api/v1/submissions/{submission.pk}/",
            "/api/v1/queries/",
        )
    ]
    assert [response.status_code for response in refused] == [403] * 5
    for response in refused:
        detail = response.json()["detail"]
        assert "through releases" in detail and "/api/v1/exports/" in detail
        assert patient_a.pseudonym not in response.content.decode()
    # An unknown pseudonym is refused alike: a researcher learns nothing from the answer.
    assert client.get("/api/v1/patients/NO-SUCH-ONE/").status_code == 403
    assert client.get("/api/v1/exports/json/").status_code == 200


def test_refused_researchers_reads_leave_no_read_in_the_audit(client_for, researcher, patient_a):
    client_for(researcher).get("/api/v1/submissions/")
    assert not AuditEvent.objects.filter(action="api.read", actor=researcher).exists()


def test_curators_read_every_site_but_do_not_enter_data(client_for, curator, patient_a, patient_b):
    client = client_for(curator)
    assert client.get("/api/v1/patients/").json()["count"] == 2
    submission = Submission.objects.filter(patient=patient_a).first()
    response = client.patch(
        f"/api/v1/submissions/{submission.pk}/", {"data": {}}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 403
