"""Quality pages and API: each person sees the issues of their scope, and curators accept."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.services import do_run_quality_checks
from registry.submissions.models import Submission
from tests.quality.builders import LESION, clean_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def issues(forms, site_a, site_b):
    """One open issue at each site: a myelomeningocele recorded at a lumbar level."""
    found = {}
    for year, site in enumerate((site_a, site_b), start=2010):
        who = clean_patient(site, year_of_birth=year)
        who.submissions.filter(form__name="dysraphic_lesion").update(
            data={**LESION, "lesion_level": "lumbar"}
        )
    do_run_quality_checks(None, full=True)
    for issue in QualityIssue.objects.select_related("site"):
        found[issue.site.code] = issue
    assert len(found) == QualityIssue.objects.count() == 2
    return found


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_coordinator_sees_only_their_sites_issues_on_the_page(client, coordinator_a, issues):
    client.force_login(coordinator_a)
    page = client.get("/quality/").content.decode()
    assert issues["SITEA"].patient.pseudonym in page
    assert issues["SITEB"].patient.pseudonym not in page
    assert client.get(f"/quality/issues/{issues['SITEB'].pk}/").status_code == 404
    assert client.get("/quality/sites/SITEB/").status_code == 404
    assert client.get(f"/quality/issues/{issues['SITEA'].pk}/").status_code == 200


def test_a_coordinator_sees_only_their_sites_issues_in_the_api(coordinator_a, issues):
    client = api(coordinator_a)
    listed = client.get("/api/v1/quality/issues/").json()
    assert [item["site"] for item in listed["results"]] == ["SITEA"]
    assert client.get(f"/api/v1/quality/issues/{issues['SITEB'].pk}/").status_code == 404
    mine = client.get(f"/api/v1/quality/issues/{issues['SITEA'].pk}/").json()
    assert mine["rule"] == "mmc_level_outside_cervical" and mine["field"] == "lesion_level"
    assert mine["form"] == "dysraphic_lesion" and mine["details"] is None


def test_a_curator_sees_every_site(client, curator, issues):
    client.force_login(curator)
    page = client.get("/quality/").content.decode()
    assert issues["SITEA"].patient.pseudonym in page
    assert issues["SITEB"].patient.pseudonym in page
    listed = api(curator).get("/api/v1/quality/issues/?site=SITEB").json()
    assert [item["id"] for item in listed["results"]] == [issues["SITEB"].pk]


def test_researchers_see_no_quality_issues(client, researcher, issues):
    client.force_login(researcher)
    for page in ("/quality/", f"/quality/issues/{issues['SITEA'].pk}/"):
        response = client.get(page)
        assert response.status_code == 403
        assert "through releases" in response.content.decode()
        assert issues["SITEA"].patient.pseudonym not in response.content.decode()
    response = api(researcher).get("/api/v1/quality/issues/")
    assert response.status_code == 403 and "aggregate statistics" in response.json()["detail"]


def test_a_curator_accepts_an_issue_on_the_page(client, curator, issues):
    client.force_login(curator)
    issue = issues["SITEA"]
    response = client.post(
        f"/quality/issues/{issue.pk}/accept/",
        {"reason": "The lesion extends from C4 down; level checked."},
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == IssueStatus.ACCEPTED and issue.accepted_by == curator


def test_a_curator_accepts_an_issue_through_the_api(curator, issues):
    issue = issues["SITEB"]
    response = api(curator).post(
        f"/api/v1/quality/issues/{issue.pk}/accept/",
        {"reason": "Checked against the MRI report."},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    refused = api(curator).post(
        f"/api/v1/quality/issues/{issue.pk}/accept/", {"reason": ""}, format="json"
    )
    assert refused.status_code == 400


def test_a_coordinator_cannot_accept(client, coordinator_a, issues):
    issue = issues["SITEA"]
    client.force_login(coordinator_a)
    assert (
        client.post(
            f"/quality/issues/{issue.pk}/accept/", {"reason": "Looks fine to me."}
        ).status_code
        == 404
    )
    response = api(coordinator_a).post(
        f"/api/v1/quality/issues/{issue.pk}/accept/", {"reason": "Looks fine to me."}, format="json"
    )
    assert response.status_code == 403
    issue.refresh_from_db()
    assert issue.status == IssueStatus.OPEN


def test_a_resolved_issue_leaves_the_default_list(client, coordinator_a, issues):
    issue = issues["SITEA"]
    Submission.objects.filter(pk=issue.submission_id).update(data=LESION)
    do_run_quality_checks(None, full=True)
    client.force_login(coordinator_a)
    assert issue.patient.pseudonym not in client.get("/quality/").content.decode()
    assert issue.patient.pseudonym in client.get("/quality/?status=resolved").content.decode()


def test_an_issue_links_to_its_field_in_the_form_when_the_form_page_exists(client, curator, issues):
    issue = issues["SITEA"]
    client.force_login(curator)
    page = client.get(f"/quality/issues/{issue.pk}/").content.decode()
    try:
        url = reverse("web:submission", args=[issue.patient.pseudonym, "dysraphic_lesion", 1])
    except NoReverseMatch:
        assert "open it at the field" not in page
    else:
        assert f"{url}#field-lesion_level" in page


def test_near_duplicate_details_are_for_curators_only(
    client, curator, coordinator_b, forms, site_a, site_b
):
    first = clean_patient(site_a, year_of_birth=2011)
    clean_patient(site_b, year_of_birth=2011)
    do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get(rule="near_duplicate_patient", site=site_b)
    client.force_login(coordinator_b)
    assert first.pseudonym not in client.get(f"/quality/issues/{issue.pk}/").content.decode()
    assert api(coordinator_b).get(f"/api/v1/quality/issues/{issue.pk}/").json()["details"] is None
    client.force_login(curator)
    assert first.pseudonym in client.get(f"/quality/issues/{issue.pk}/").content.decode()


def test_the_rules_are_listed(client, coordinator_a, forms):
    client.force_login(coordinator_a)
    page = client.get("/quality/rules/").content.decode()
    assert "physiological_mm_after_10" in page and "hidden_value" in page
    codes = [rule["code"] for rule in api(coordinator_a).get("/api/v1/quality/rules/").json()]
    assert "near_duplicate_patient" in codes and "mmc_level_outside_cervical" in codes


def test_the_rules_page_names_severities_by_their_labels(client, coordinator_a, forms):
    client.force_login(coordinator_a)
    page = client.get("/quality/rules/").content.decode()
    assert ">For review</span>" in page and ">info</span>" not in page
