"""Statistics pages and API: researchers see suppressed figures only; curators see them as
computed and can check what researchers see."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.statistics.services import do_compute_statistics
from tests.quality.builders import clean_patient, patient, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(forms, site_a, site_b):
    """Seven patients at A and three at B: the count at B is below the threshold of 5."""
    for year in range(7):
        clean_patient(site_a, year_of_birth=2000 + year)
    for year in range(3):
        who = patient(site_b, year_of_birth=2010 + year)
        stored(
            who,
            "enrollment",
            {
                "enrol_age_months": 12,
                "handedness": "unknown",
                "consent_registry": "1",
                "consent_recontact": "0",
                "primary_diagnosis": "familial_mm",
            },
        )
    return do_compute_statistics(None)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def patients_by_site(results: dict) -> dict:
    t = results["patients_by_site"]
    return {row["code"]: t["cells"][i][0] for i, row in enumerate(t["rows"])}


def test_a_researcher_gets_suppressed_figures_from_the_api(researcher, snapshot):
    body = api(researcher).get("/api/v1/statistics/snapshots/latest/").json()
    assert body["suppressed"] is True and body["threshold"] == 5
    assert patients_by_site(body["results"]) == {"SITEA": None, "SITEB": None}
    # The total alone would give B's 3 away once A's 7 is known: both cells are hidden.
    assert body["results"]["patients_by_site"]["total"] == 10


def test_a_curator_gets_the_figures_as_computed_and_can_check_the_researchers_view(
    curator, snapshot
):
    client = api(curator)
    body = client.get("/api/v1/statistics/snapshots/latest/").json()
    assert body["suppressed"] is False
    assert patients_by_site(body["results"]) == {"SITEA": 7, "SITEB": 3}
    preview = client.get("/api/v1/statistics/snapshots/latest/?view=researcher").json()
    assert preview["suppressed"] is True and patients_by_site(preview["results"])["SITEB"] is None


def test_a_researcher_cannot_ask_for_unsuppressed_figures(researcher, snapshot):
    client = api(researcher)
    body = client.get(f"/api/v1/statistics/snapshots/{snapshot.pk}/").json()
    assert body["suppressed"] is True and patients_by_site(body["results"])["SITEB"] is None
    # `researcher` is the only view there is to ask for: anything else is refused, not ignored.
    refused = client.get(f"/api/v1/statistics/snapshots/{snapshot.pk}/?view=curator")
    assert refused.status_code == 400 and "view" in refused.json()


def test_the_snapshot_list_gives_each_data_cut(researcher, snapshot):
    body = api(researcher).get("/api/v1/statistics/snapshots/").json()
    assert [item["id"] for item in body["results"]] == [snapshot.pk]
    assert body["results"][0]["data_cut"]["patients"] == 10


def test_no_snapshot_yet_is_not_found(researcher, forms):
    response = api(researcher).get("/api/v1/statistics/snapshots/latest/")
    assert response.status_code == 404


def test_the_api_needs_a_login(snapshot):
    assert APIClient().get("/api/v1/statistics/snapshots/latest/").status_code in (401, 403)


def test_the_dashboard_shows_charts_and_marks_suppression_for_researchers(
    client, researcher, snapshot
):
    client.force_login(researcher)
    page = client.get("/statistics/").content.decode()
    assert "<svg" in page and "Mirror movements by lesion type" in page
    assert "Counts below 5 are suppressed" in page
    assert "https://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_the_tables_page_hides_small_counts_from_researchers(client, researcher, curator, snapshot):
    client.force_login(researcher)
    page = client.get("/statistics/tables/").content.decode()
    assert "stats-suppressed" in page
    client.force_login(curator)
    page = client.get("/statistics/tables/").content.decode()
    assert "Figures as computed" in page and "See what researchers see" in page


def test_the_csv_marks_suppressed_figures(client, researcher, snapshot):
    client.force_login(researcher)
    response = client.get("/statistics/download.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_site = {row["row"]: row for row in rows if row["table"] == "patients_by_site"}
    assert by_site["SITEB"]["value"] == "" and by_site["SITEB"]["suppressed"] == "yes"
    assert by_site["total"]["value"] == "10"


def test_a_curator_can_start_a_statistics_run_from_the_dashboard(
    client, curator, forms, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(curator)
    page = client.get("/statistics/").content.decode()
    assert "No statistics have been computed yet" in page and "Compute statistics now" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/start/", {"kind": "statistics"})
    assert response.status_code == 302
    assert "Mirror movements by lesion type" in client.get("/statistics/").content.decode()


def test_researchers_are_not_offered_to_compute(client, researcher, forms):
    client.force_login(researcher)
    assert "Compute statistics now" not in client.get("/statistics/").content.decode()
    assert client.post("/jobs/start/", {"kind": "statistics"}).status_code == 404


def test_the_threshold_comes_from_the_settings(researcher, snapshot, settings):
    settings.STATS_SUPPRESSION_THRESHOLD = 8
    body = api(researcher).get("/api/v1/statistics/snapshots/latest/").json()
    assert body["threshold"] == 8
    assert body["results"]["suppression"] == {"threshold": 8}
    assert patients_by_site(body["results"]) == {"SITEA": None, "SITEB": None}
    settings.STATS_SUPPRESSION_THRESHOLD = 3
    body = api(researcher).get("/api/v1/statistics/snapshots/latest/").json()
    assert patients_by_site(body["results"]) == {"SITEA": 7, "SITEB": 3}


def test_a_run_in_progress_is_said_in_its_sentence_over_the_latest_figures(
    client, curator, snapshot
):
    run = JobRun.objects.create(kind=JobKind.STATISTICS, status=JobStatus.QUEUED)
    client.force_login(curator)
    page = client.get("/statistics/").content.decode()
    assert f"Aggregate statistics run {run.pk} is waiting for a worker." in page
    assert "A statistics run is queued" not in page
    assert "10 patients and" in page
