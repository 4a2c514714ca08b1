"""Every way a researcher can read the registry: no answer shows a registry pseudonym or an
update time. Record-level data reaches researchers through releases only (exports, export
jobs, the REDCap API's records), with pseudonyms of their own; everything else that holds
records refuses them with a 403 that says so, or shows them aggregates.

The walk covers every URL pattern of the registry (as the security-headers walk does, on the
same world of records), every export shape, a researcher's own export job and its file, and
every content of the REDCap API, in JSON and in CSV.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client

from registry.exchange.redcap import CONTENTS
from registry.exchange.shapes import SHAPES
from registry.patients.models import Patient
from registry.submissions.models import Submission
from tests.factories import api_token_for, verify_session
from tests.web import test_security_headers as walk
from tests.web.test_security_headers import World, every_route, url_for

pytestmark = pytest.mark.django_db

# The security-headers walk's records (patients, a data query, quality issues, a statistics
# snapshot, job runs, a token), as a fixture of this module.
records = walk.world

# The schema and its documentation page describe the fields of every answer, `updated_at`
# among them; they hold no record.
DESCRIBES_THE_API = ("/api/schema/", "/api/docs/")


def _body(response: HttpResponseBase) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return response.content.decode()


def _leaks(url: str, response: HttpResponseBase, body: str, registry: set[str]) -> list[str]:
    found = [
        f"{url} ({response.status_code}) shows {pseudonym}"
        for pseudonym in registry
        if pseudonym in body
    ]
    if "updated_at" in body and not url.startswith(DESCRIBES_THE_API):
        found.append(f"{url} ({response.status_code}) shows updated_at")
    return found


@pytest.fixture
def every_patient_released(settings: Any) -> None:
    # k = 1: no patient is suppressed, so that the exports really carry every record.
    settings.STATS_SUPPRESSION_THRESHOLD = 1


@pytest.fixture
def researchers_job(
    settings, tmp_path, researcher, records, eager_tasks, django_capture_on_commit_callbacks
) -> dict[str, Any]:
    settings.REGISTRY_EXPORT_DIR = tmp_path
    client = Client()
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post(
            "/api/v1/exports/jobs/", {"shape": "json"}, content_type="application/json"
        )
    assert requested.status_code == 202, requested.content
    return requested.json()


def test_no_page_or_api_answer_shows_a_researcher_a_registry_pseudonym_or_an_update_time(
    every_patient_released, records: World, researcher, researchers_job
):
    registry = set(Patient.objects.values_list("pseudonym", flat=True))
    assert len(registry) >= 8
    client = Client()
    client.force_login(researcher)
    verify_session(client, researcher)
    job = researchers_job["id"]
    urls = [url_for(route, records) for route in every_route()] + [
        *(f"/api/v1/exports/{shape}/" for shape in SHAPES),
        f"/api/v1/exports/jobs/{job}/",
        f"/api/v1/exports/jobs/{job}/file/",
        f"/api/v1/patients/{next(iter(registry))}/",
        f"/api/v1/submissions/{Submission.objects.first().pk}/",
    ]
    problems: list[str] = []
    released: list[str] = []
    for url in urls:
        response = client.get(url)
        body = _body(response)
        problems += _leaks(url, response, body, registry)
        if "R-" in body and response.status_code == 200:
            released.append(url)
    assert not problems, "\n".join(problems)
    # The walk did reach the records, through the releases and only there.
    assert {url for url in released if url.startswith("/api/v1/exports/")} >= {
        *(f"/api/v1/exports/{shape}/" for shape in SHAPES),
        f"/api/v1/exports/jobs/{job}/file/",
    }


@pytest.mark.parametrize(
    "path",
    ["/api/v1/patients/", "/api/v1/submissions/", "/api/v1/queries/", "/api/v1/quality/issues/"],
)
def test_a_researcher_is_told_that_records_come_through_releases(path, researcher, records):
    client = Client()
    client.force_login(researcher)
    response = client.get(path)
    assert response.status_code == 403
    assert "releases" in response.json()["detail"] or "exports" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/patients/{pseudonym}/", "/queries/", "/quality/"])
def test_record_pages_refuse_researchers_with_a_pointer_to_releases(path, researcher, records):
    client = Client()
    client.force_login(researcher)
    response = client.get(path.format(**records.values))
    assert response.status_code == 403
    assert "/api/v1/exports/" in response.content.decode()


@pytest.mark.parametrize(
    ("fmt", "layout"),
    [("json", "flat"), ("csv", "flat"), ("xml", "flat"), ("json", "eav"), ("csv", "eav")],
)
def test_no_redcap_answer_shows_a_researcher_a_registry_pseudonym(
    fmt, layout, every_patient_released, records: World, researcher
):
    registry = set(Patient.objects.values_list("pseudonym", flat=True))
    token = api_token_for(researcher)
    problems: list[str] = []
    for content in CONTENTS:
        response = Client().post(
            "/redcap/api/", {"token": token, "content": content, "format": fmt, "type": layout}
        )
        problems += _leaks(f"content={content}", response, _body(response), registry)
    assert not problems, "\n".join(problems)


def test_a_researchers_redcap_records_are_a_release_with_its_manifest(
    every_patient_released, records: World, researcher
):
    token = api_token_for(researcher)
    response = Client().post(
        "/redcap/api/", {"token": token, "content": "record", "format": "json"}
    )
    rows = json.loads(_body(response))
    ids = {row["record_id"] for row in rows}
    assert ids and all(record.startswith("R-") for record in ids)
    manifest = json.loads(response["Registry-Release-Manifest"])
    assert manifest["release"] == response["Registry-Release"]
    assert manifest["release"].startswith("token-")
    assert manifest["patients_released"] == len(ids)


def test_coordinators_and_curators_still_read_the_registry_pseudonyms(
    records: World, coordinator_a, curator
):
    pseudonym = records.values["pseudonym"]
    for person in (coordinator_a, curator):
        client = Client()
        client.force_login(person)
        verify_session(client, person)
        patients = client.get("/api/v1/patients/", {"page_size": 100}).json()["results"]
        assert pseudonym in {patient["pseudonym"] for patient in patients}
        submissions = client.get("/api/v1/submissions/").json()["results"]
        assert submissions and all("updated_at" in item for item in submissions)
        export = _body(client.get("/api/v1/exports/flat-csv/"))
        assert pseudonym in export
