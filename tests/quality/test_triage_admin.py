"""Curators triage quality issues in the admin: accept with a reason, ask the site, resolve."""

import pytest

from registry.audit.models import AuditEvent
from registry.curation.models import DataQuery
from registry.quality.models import IssueStatus, QualityIssue
from registry.submissions.services import do_save_submission
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(coordinator_a, site_a):
    version = publish_form(assessment_schema())
    patient = PatientFactory(site=site_a, pseudonym="SITEA-Q1")
    submission = do_save_submission(
        coordinator_a,
        patient,
        version,
        {"age_months": 30, "mm_present": "1", "wt_grade": "4"},
        instance=1,
    ).submission
    return QualityIssue.objects.create(
        rule="outlier",
        severity="warning",
        site=site_a,
        patient=patient,
        submission=submission,
        field="wt_grade",
        message="Grade 4 is rare at this age.",
        fingerprint="f" * 64,
    )


def act(client, action, issue, **extra):
    return client.post(
        "/admin/quality/qualityissue/",
        {"action": action, "_selected_action": [issue.pk], **extra},
        follow=True,
    )


def test_accepting_asks_for_a_reason_first(client, curator, issue):
    client.force_login(curator)
    page = act(client, "accept_as_correct", issue).content.decode()
    assert "Say why the values are correct" in page
    assert QualityIssue.objects.get().status == IssueStatus.OPEN

    act(client, "accept_as_correct", issue, reason="Confirmed on re-examination video.")
    accepted = QualityIssue.objects.get()
    assert accepted.status == IssueStatus.ACCEPTED and accepted.accepted_by == curator
    assert AuditEvent.objects.filter(action="quality_issue.accept").exists()


def test_a_short_reason_is_refused(client, curator, issue):
    client.force_login(curator)
    page = act(client, "accept_as_correct", issue, reason="ok").content.decode()
    assert "Say why the value is correct" in page
    assert QualityIssue.objects.get().status == IssueStatus.OPEN


def test_sending_to_the_site_opens_a_data_query_on_the_field(client, curator, issue):
    client.force_login(curator)
    act(client, "send_to_site", issue)
    query = DataQuery.objects.get()
    assert query.field == "wt_grade" and query.submission == issue.submission
    assert "Grade 4 is rare at this age." in query.messages.get().text


def test_marking_resolved_is_audited(client, curator, issue):
    client.force_login(curator)
    act(client, "mark_resolved", issue)
    assert QualityIssue.objects.get().status == IssueStatus.RESOLVED
    assert AuditEvent.objects.filter(action="quality_issue.resolve", actor=curator).exists()


def test_coordinators_cannot_triage(client, coordinator_a, issue):
    client.force_login(coordinator_a)
    act(client, "mark_resolved", issue)
    assert QualityIssue.objects.get().status == IssueStatus.OPEN


def test_the_triage_message_counts_in_plain_words(client, curator, issue):
    client.force_login(curator)
    page = act(client, "mark_resolved", issue).content.decode()
    assert "1 issue resolved." in page and "issue(s)" not in page
