"""Query parameters are checked as the schema states them: a wrong one is a 400 naming it,
never quietly replaced by a default or ignored."""

from __future__ import annotations

import pytest

from registry.curation.services import do_open_data_query
from registry.jobs.models import JobKind, JobRun
from registry.submissions.models import Submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.mark.parametrize("page_size", ["null", "", "0", "1001", "2.5", "all", "-3"])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_a_400_naming_it(
    admin_client, patient_a, page_size
):
    response = admin_client.get("/api/v1/submissions/", {"page_size": page_size})
    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]
    assert "whole number from 1 to 1000" in response.json()["page_size"][0]


@pytest.mark.parametrize("page", ["null", "", "0", "abc", "last"])
def test_a_page_that_is_not_a_whole_number_is_a_400_naming_it(admin_client, patient_a, page):
    response = admin_client.get("/api/v1/submissions/", {"page": page})
    assert response.status_code == 400 and list(response.json()) == ["page"]


def test_pages_are_as_asked_and_a_page_past_the_last_is_a_404(admin_client, patient_a):
    first = admin_client.get("/api/v1/submissions/", {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = admin_client.get("/api/v1/submissions/", {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1
    past = admin_client.get("/api/v1/submissions/", {"page_size": 2, "page": "9" * 40})
    assert past.status_code == 404 and "the last page is 2" in past.json()["detail"]


def test_each_list_checks_its_own_largest_page(admin_client):
    JobRun.objects.create(kind=JobKind.STATISTICS)
    assert admin_client.get("/api/v1/jobs/runs/", {"page_size": 500}).status_code == 200
    refused = admin_client.get("/api/v1/jobs/runs/", {"page_size": 501})
    assert refused.status_code == 400 and "from 1 to 500" in refused.json()["page_size"][0]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("locked", "maybe"),
        ("locked", ""),
        ("changed_since", ""),
        ("changed_since", "soon"),
        ("version", "2.5"),
        ("version", ""),
        ("status", ""),
        ("status", "done"),
    ],
)
def test_a_filter_with_a_wrong_value_is_a_400_naming_it(admin_client, patient_a, parameter, value):
    response = admin_client.get("/api/v1/submissions/", {parameter: value})
    assert response.status_code == 400 and list(response.json()) == [parameter]


def test_filters_with_right_values_filter(admin_client, patient_a):
    def count(**query: str) -> int:
        return admin_client.get("/api/v1/submissions/", query).json()["count"]

    assert count(locked="false") == 3 and count(locked="true") == 0
    assert count(version="2") == 1 and count(form="", site="") == 3


def test_filtering_queries_by_a_submission_elsewhere_finds_nothing_rather_than_refusing(
    client_for, coordinator_a, curator, patient_a, patient_b
):
    theirs = Submission.objects.filter(patient=patient_b).first()
    do_open_data_query(curator, theirs, "enrol_age_months", "Months or years?")
    client = client_for(coordinator_a)
    # Whether a submission of another site exists is not the coordinator's to learn.
    for submission in (theirs.pk, 10**12):
        response = client.get("/api/v1/queries/", {"submission": submission})
        assert response.status_code == 200 and response.json()["count"] == 0
    assert client.get("/api/v1/queries/", {"submission": "x"}).status_code == 400


@pytest.mark.parametrize("query", [{"status": "opne"}, {"status": ""}, {"severity": "fatal"}])
def test_a_quality_filter_with_a_wrong_value_is_a_400_naming_it(admin_client, query):
    response = admin_client.get("/api/v1/quality/issues/", query)
    assert response.status_code == 400 and list(response.json()) == list(query)


@pytest.mark.parametrize("query", [{"labels": ""}, {"changed_since": ""}, {"version": "x"}])
def test_an_export_parameter_sent_empty_or_wrong_is_a_400_naming_it(admin_client, query):
    response = admin_client.get("/api/v1/exports/flat-csv/", query)
    assert response.status_code == 400 and list(response.json()) == list(query)


def test_an_export_text_parameter_sent_empty_means_not_given(admin_client, patient_a):
    response = admin_client.get("/api/v1/exports/json/", {"filter": ""})
    assert response.status_code == 200


def test_a_statistics_view_other_than_researcher_is_a_400(admin_client):
    # Even before any snapshot exists, so that a typo is not mistaken for "no statistics".
    for path in ("/api/v1/statistics/snapshots/", "/api/v1/statistics/snapshots/latest/"):
        response = admin_client.get(path, {"view": "curator"})
        assert response.status_code == 400 and list(response.json()) == ["view"]
