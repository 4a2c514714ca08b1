"""Large exports as jobs: the file is written in the background, followed, then downloaded."""

from __future__ import annotations

import csv
import io

import pytest

from registry.audit.models import AuditEvent
from registry.jobs.models import JobRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.REGISTRY_EXPORT_DIR = tmp_path
    return tmp_path


def test_an_export_job_writes_a_file_to_download(
    client_for,
    coordinator_a,
    patient_a,
    export_dir,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    client = client_for(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post(
            "/api/v1/exports/jobs/",
            {"shape": "flat-csv", "form": ["mirror_movements"]},
            format="json",
        )
    assert requested.status_code == 202
    job = client.get(f"/api/v1/exports/jobs/{requested.json()['id']}/").json()
    assert job["status"] == "succeeded"
    assert (job["progress_done"], job["progress_total"]) == (2, 2)
    run = JobRun.objects.get(pk=job["id"])
    assert run.result_file.startswith(str(export_dir)) and run.counts == {"rows": 2}
    download = client.get(job["file_url"])
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row["redcap_repeat_instance"] for row in rows] == ["1", "2"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="export").values_list("action", flat=True)
    )
    assert actions == ["export", "export.download"]


def test_a_bad_export_request_fails_at_once(client_for, coordinator_a, patient_a, export_dir):
    response = client_for(coordinator_a).post(
        "/api/v1/exports/jobs/", {"shape": "flat-csv", "form": ["shoes"]}, format="json"
    )
    assert response.status_code == 400 and "shoes" in response.json()["form"][0]
    assert not JobRun.objects.exists()


def test_a_running_export_cannot_be_downloaded_yet(
    client_for, coordinator_a, patient_a, export_dir
):
    client = client_for(coordinator_a)
    requested = client.post("/api/v1/exports/jobs/", {"shape": "ndjson"}, format="json")
    response = client.get(f"/api/v1/exports/jobs/{requested.json()['id']}/file/")
    assert response.status_code == 409 and "queued" in response.json()["detail"]


def test_streamed_exports_are_audited_with_their_parameters(client_for, coordinator_a, patient_a):
    client = client_for(coordinator_a)
    response = client.get("/api/v1/exports/long-csv/", {"form": "enrollment"})
    assert b"".join(response.streaming_content).startswith(b"patient,form,version")
    event = AuditEvent.objects.get(action="export")
    assert event.context["shape"] == "long-csv" and event.context["forms"] == ["enrollment"]


def test_an_unknown_export_shape_is_not_found(client_for, coordinator_a, registry_forms):
    response = client_for(coordinator_a).get("/api/v1/exports/parquet/")
    assert response.status_code == 404 and "flat-csv" in response.json()["detail"]
