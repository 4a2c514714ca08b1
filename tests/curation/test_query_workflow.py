"""The data resolution workflow end to end through the browser's doors: a curator asks in the
admin, the coordinator answers and corrects in the data-entry pages, the curator closes, and the
correction shows in the audit trail."""

import pytest

from registry.curation.models import DataQuery, QueryStatus
from registry.patients.services import do_enrol_patient
from registry.submissions.models import Submission
from registry.submissions.services import do_save_submission
from tests.factories import assessment_schema, publish_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def submission(coordinator_a, site_a):
    version = publish_form(assessment_schema())
    patient = do_enrol_patient(
        coordinator_a, site_a, local_id="WF-1", sex="male", year_of_birth=2016
    ).patient
    return do_save_submission(
        coordinator_a,
        patient,
        version,
        {"age_months": 48, "mm_present": "1", "wt_grade": "4"},
        status="complete",
        instance=1,
    ).submission


def test_query_opened_answered_corrected_and_closed(client, curator, coordinator_a, submission):
    client.force_login(curator)
    client.post(
        f"/admin/submissions/submission/{submission.pk}/query/",
        {"field": "wt_grade", "text": "Grade 4 at 4 years is unusual: please check."},
    )
    query = DataQuery.objects.get()
    assert query.status == QueryStatus.OPEN

    # Locking waits until the query is settled.
    client.post(f"/admin/submissions/submission/{submission.pk}/lock/")
    assert not Submission.objects.get(pk=submission.pk).locked

    client.force_login(coordinator_a)
    inbox = client.get("/queries/").content.decode()
    assert "Grade 4 at 4 years is unusual" in inbox
    client.post(f"/queries/{query.pk}/", {"text": "Re-examined: grade 2, corrected."})
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    pseudonym = submission.patient.pseudonym
    response = client.post(
        f"/patients/{pseudonym}/assessment/1/",
        {
            "age_months": "48",
            "mm_present": "1",
            "wt_grade": "2",
            "_status": "complete",
            "_row_version": "1",
        },
    )
    assert response.status_code in (200, 302)
    assert Submission.objects.get(pk=submission.pk).data["wt_grade"] == "2"

    client.force_login(curator)
    client.post(f"/admin/curation/dataquery/{query.pk}/close/", {"text": "Thank you."})
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
    assert [m.kind for m in query.messages.all()] == ["question", "answer", "close"]

    trail = client.get(f"/admin/patients/patient/{submission.patient.pk}/change/")
    assert "Woods &amp; Teuber grade: Grade 4 → Grade 2" in trail.content.decode()
    client.post(f"/admin/submissions/submission/{submission.pk}/lock/")
    assert Submission.objects.get(pk=submission.pk).locked


def test_a_closed_query_is_reopened_with_a_reason(client, curator, submission):
    client.force_login(curator)
    client.post(
        f"/admin/submissions/submission/{submission.pk}/query/",
        {"field": "wt_grade", "text": "Please confirm the grade."},
    )
    query = DataQuery.objects.get()
    client.post(f"/admin/curation/dataquery/{query.pk}/close/", {})
    response = client.post(
        f"/admin/curation/dataquery/{query.pk}/reopen/", {"text": ""}, follow=True
    )
    assert DataQuery.objects.get().status == QueryStatus.CLOSED
    assert "cannot be empty" in response.content.decode()
    client.post(
        f"/admin/curation/dataquery/{query.pk}/reopen/",
        {"text": "The answer did not say which hand."},
    )
    assert DataQuery.objects.get().status == QueryStatus.OPEN


def test_a_query_on_an_unknown_field_is_refused_with_the_fields_named(client, curator, submission):
    client.force_login(curator)
    response = client.post(
        f"/admin/submissions/submission/{submission.pk}/query/",
        {"field": "nosuch", "text": "?"},
        follow=True,
    )
    assert "is not a field of assessment" in response.content.decode()
    assert not DataQuery.objects.exists()
