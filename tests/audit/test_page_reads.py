"""Pages that show record-level data write one audit event per view, naming what was shown;
logouts are audited; a refused read (404) writes nothing, as in the REST API."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.audit.actions import READ_ACTIONS
from registry.audit.models import AuditEvent
from registry.curation.services import do_open_data_query
from registry.quality.models import QualityIssue, Severity
from registry.statistics.services import do_compute_statistics
from tests.factories import PatientFactory, enter_submission
from tests.web.helpers import MM_PRESENT

pytestmark = pytest.mark.django_db


def visit(client, url, *, method="get", **data):
    """The response and the audit events the request wrote, with the request id it carried."""
    request_id = f"req-{uuid.uuid4().hex[:16]}"
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = getattr(client, method)(url, data, HTTP_X_REQUEST_ID=request_id)
    return response, list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")), request_id


def assert_one_read(events, request_id, *, action, actor, obj=None):
    assert [event.action for event in events] == [action]
    event = events[0]
    assert event.actor == actor
    assert event.request_id == request_id
    if obj is None:
        assert event.object_id == ""
    else:
        assert (event.object_type, event.object_id) == (obj._meta.label_lower, str(obj.pk))
    return event


def audit_inserts(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith('INSERT INTO "audit_auditevent"'))


@pytest.fixture
def mm(registry_forms):
    return registry_forms["mirror_movements", 2]


@pytest.fixture
def submission_a(coordinator_a, patient_a, mm):
    return enter_submission(coordinator_a, patient_a, mm, MM_PRESENT)


@pytest.fixture
def submission_b(coordinator_b, patient_b, mm):
    return enter_submission(coordinator_b, patient_b, mm, MM_PRESENT)


@pytest.fixture
def query_a(curator, submission_a):
    return do_open_data_query(curator, submission_a, "wt_grade_left_task", "Please confirm.")


@pytest.fixture
def query_b(curator, submission_b):
    return do_open_data_query(curator, submission_b, "mm_age_months", "Site B question.")


def _issue(submission, n):
    return QualityIssue.objects.create(
        rule="mmc_level_outside_cervical",
        severity=Severity.WARNING,
        site=submission.patient.site,
        patient=submission.patient,
        submission=submission,
        field="wt_grade_left_task",
        message="Check the grade.",
        fingerprint=f"fp-{n}",
    )


@pytest.fixture
def issue_a(submission_a):
    return _issue(submission_a, 1)


@pytest.fixture
def issue_b(submission_b):
    return _issue(submission_b, 2)


# --- Logout ---------------------------------------------------------------------------------


def test_logout_is_audited_with_the_user_and_request_id(client, coordinator_a):
    client.force_login(coordinator_a)
    response, events, request_id = visit(client, "/logout/", method="post")
    assert response.status_code == 302
    event = assert_one_read(
        events, request_id, action="logout", actor=coordinator_a, obj=coordinator_a
    )
    assert event.context == {"address": "127.0.0.1"}


def test_leaving_the_admin_is_audited_as_a_logout(client, curator):
    client.force_login(curator)
    _, events, request_id = visit(client, "/admin/logout/", method="post")
    assert_one_read(events, request_id, action="logout", actor=curator, obj=curator)


def test_logout_of_nobody_signed_in_writes_nothing(client):
    response, events, _ = visit(client, "/logout/", method="post")
    assert response.status_code == 302 and events == []


# --- Coordinator pages ----------------------------------------------------------------------


def test_the_dashboard_writes_one_event_naming_the_patients_on_the_page(
    client, coordinator_a, site_a, patient_a, mm
):
    others = PatientFactory.create_batch(3, site=site_a)
    client.force_login(coordinator_a)
    with CaptureQueriesContext(connection) as queries:
        response, events, request_id = visit(client, "/", status="none")
    assert response.status_code == 200
    event = assert_one_read(events, request_id, action="patient.view", actor=coordinator_a)
    assert event.site == site_a
    assert event.context["page"] == "/"
    assert event.context["filters"] == {"status": "none"}
    assert event.context["object_type"] == "patients.patient"
    assert sorted(event.context["ids"]) == sorted(str(p.pk) for p in [patient_a, *others])
    assert event.context["count"] == 4
    assert audit_inserts(queries.captured_queries) == 1


def test_a_search_is_recorded_as_made_but_what_was_typed_is_not_kept(
    client, coordinator_a, patient_a, mm
):
    client.force_login(coordinator_a)
    _, events, request_id = visit(client, "/", q="HOSP-0042")
    event = assert_one_read(events, request_id, action="patient.view", actor=coordinator_a)
    assert event.context["filters"] == {"searched": True}
    assert "HOSP-0042" not in str(event.context)


def test_the_patient_page_is_audited_as_a_read_of_the_patient(
    client, coordinator_a, patient_a, site_a, mm
):
    client.force_login(coordinator_a)
    response, events, request_id = visit(client, f"/patients/{patient_a.pseudonym}/")
    assert response.status_code == 200
    event = assert_one_read(
        events, request_id, action="patient.view", actor=coordinator_a, obj=patient_a
    )
    assert event.site == site_a
    assert event.context == {"page": f"/patients/{patient_a.pseudonym}/"}


def test_another_sites_patient_answers_404_and_writes_nothing(client, coordinator_a, patient_b, mm):
    client.force_login(coordinator_a)
    response, events, _ = visit(client, f"/patients/{patient_b.pseudonym}/")
    assert response.status_code == 404 and events == []


def test_the_form_page_is_audited_as_a_read_of_the_submission(
    client, coordinator_a, patient_a, submission_a
):
    client.force_login(coordinator_a)
    url = f"/patients/{patient_a.pseudonym}/mirror_movements/1/"
    response, events, request_id = visit(client, url)
    assert response.status_code == 200
    event = assert_one_read(
        events, request_id, action="submission.view", actor=coordinator_a, obj=submission_a
    )
    assert event.site == patient_a.site


def test_a_curator_reading_a_form_on_the_site_pages_is_audited(
    client, curator, patient_a, submission_a
):
    client.force_login(curator)
    _, events, request_id = visit(client, f"/patients/{patient_a.pseudonym}/mirror_movements/1/")
    assert_one_read(events, request_id, action="submission.view", actor=curator, obj=submission_a)


def test_a_stale_save_shows_the_stored_answers_and_is_audited_as_a_read(
    client, coordinator_a, patient_a, submission_a
):
    client.force_login(coordinator_a)
    url = f"/patients/{patient_a.pseudonym}/mirror_movements/1/"
    payload = {"_status": "incomplete", "_row_version": "0", **MM_PRESENT}
    response, events, request_id = visit(client, url, method="post", **payload)
    assert response.status_code == 409
    assert_one_read(
        events, request_id, action="submission.view", actor=coordinator_a, obj=submission_a
    )


def test_a_blank_new_form_shows_no_record_and_writes_nothing(client, coordinator_a, patient_a, mm):
    client.force_login(coordinator_a)
    response, events, _ = visit(client, f"/patients/{patient_a.pseudonym}/mirror_movements/1/")
    assert response.status_code == 200 and events == []


def test_another_sites_form_answers_404_and_writes_nothing(
    client, coordinator_a, patient_b, submission_b
):
    client.force_login(coordinator_a)
    response, events, _ = visit(client, f"/patients/{patient_b.pseudonym}/mirror_movements/1/")
    assert response.status_code == 404 and events == []


def test_the_query_inbox_writes_one_event_naming_the_queries_listed(
    client, coordinator_a, query_a, query_b
):
    client.force_login(coordinator_a)
    _, events, request_id = visit(client, "/queries/", status="all")
    event = assert_one_read(events, request_id, action="data_query.view", actor=coordinator_a)
    assert event.context["ids"] == [str(query_a.pk)]
    assert event.context["filters"] == {"status": "all"}


def test_a_query_thread_is_audited_and_another_sites_writes_nothing(
    client, coordinator_a, query_a, query_b
):
    client.force_login(coordinator_a)
    _, events, request_id = visit(client, f"/queries/{query_a.pk}/")
    assert_one_read(events, request_id, action="data_query.view", actor=coordinator_a, obj=query_a)
    response, events, _ = visit(client, f"/queries/{query_b.pk}/")
    assert response.status_code == 404 and events == []


def test_the_quality_pages_are_audited_and_another_sites_issue_writes_nothing(
    client, coordinator_a, site_a, issue_a, issue_b
):
    client.force_login(coordinator_a)
    _, events, request_id = visit(client, "/quality/", severity="warning")
    event = assert_one_read(events, request_id, action="quality_issue.view", actor=coordinator_a)
    assert event.context["ids"] == [str(issue_a.pk)]
    assert event.context["filters"] == {"severity": "warning"}
    _, events, request_id = visit(client, "/quality/sites/SITEA/")
    assert (
        assert_one_read(events, request_id, action="quality_issue.view", actor=coordinator_a).site
        == site_a
    )
    _, events, request_id = visit(client, f"/quality/issues/{issue_a.pk}/")
    assert_one_read(
        events, request_id, action="quality_issue.view", actor=coordinator_a, obj=issue_a
    )
    response, events, _ = visit(client, f"/quality/issues/{issue_b.pk}/")
    assert response.status_code == 404 and events == []


# --- Statistics -----------------------------------------------------------------------------


@pytest.mark.parametrize("who, unsuppressed", [("curator", True), ("researcher", False)])
def test_the_statistics_csv_download_is_audited_as_an_export(
    request, client, submission_a, who, unsuppressed
):
    user = request.getfixturevalue(who)
    snapshot = do_compute_statistics(None)
    client.force_login(user)
    response, events, request_id = visit(client, "/statistics/download.csv")
    assert response.status_code == 200 and response.content.startswith(b"section,")
    event = assert_one_read(events, request_id, action="export", actor=user, obj=snapshot)
    assert event.context == {"via": "web", "shape": "statistics-csv", "unsuppressed": unsuppressed}


# --- The curators' admin --------------------------------------------------------------------


def test_the_review_queue_writes_one_event_per_page_view_with_its_filters(
    client, curator, submission_a, submission_b
):
    client.force_login(curator)
    with CaptureQueriesContext(connection) as queries:
        response, events, request_id = visit(
            client, "/admin/submissions/submission/", status="incomplete", o="1"
        )
    assert response.status_code == 200
    event = assert_one_read(events, request_id, action="submission.view", actor=curator)
    assert event.context["page"] == "/admin/submissions/submission/"
    assert event.context["filters"] == {"status": "incomplete", "o": "1"}
    assert sorted(event.context["ids"]) == sorted([str(submission_a.pk), str(submission_b.pk)])
    assert event.context["count"] == 2
    assert audit_inserts(queries.captured_queries) == 1


def test_the_review_page_is_audited_and_its_history_shows_changes_only(
    client, curator, submission_a
):
    client.force_login(curator)
    url = f"/admin/submissions/submission/{submission_a.pk}/change/"
    response, events, request_id = visit(client, url)
    assert response.status_code == 200
    event = assert_one_read(
        events, request_id, action="submission.view", actor=curator, obj=submission_a
    )
    assert event.site == submission_a.patient.site
    history = visit(client, url)[0].context["history"]
    assert [entry.event.action for entry in history] == ["submission.create"]


@pytest.mark.parametrize(
    "path, action, fixture",
    [
        ("/admin/curation/dataquery/", "data_query.view", "query_a"),
        ("/admin/quality/qualityissue/", "quality_issue.view", "issue_a"),
        ("/admin/patients/patient/", "patient.view", "patient_a"),
    ],
)
def test_each_admin_list_of_records_writes_one_event_naming_its_rows(
    request, client, curator, path, action, fixture
):
    shown = request.getfixturevalue(fixture)
    client.force_login(curator)
    response, events, request_id = visit(client, path, p="1")
    assert response.status_code == 200
    event = assert_one_read(events, request_id, action=action, actor=curator)
    assert event.context["ids"] == [str(shown.pk)]
    assert event.context["filters"] == {"p": "1"}


@pytest.mark.parametrize(
    "path, action, fixture",
    [
        ("/admin/curation/dataquery/{pk}/change/", "data_query.view", "query_a"),
        ("/admin/quality/qualityissue/{pk}/change/", "quality_issue.view", "issue_a"),
    ],
)
def test_each_admin_page_of_one_record_writes_one_event_naming_it(
    request, client, curator, path, action, fixture
):
    shown = request.getfixturevalue(fixture)
    client.force_login(curator)
    response, events, request_id = visit(client, path.format(pk=shown.pk))
    assert response.status_code == 200
    event = assert_one_read(events, request_id, action=action, actor=curator, obj=shown)
    assert event.site == shown.submission.patient.site


def test_a_patients_trail_is_audited_and_its_csv_lists_the_reads(
    client, curator, patient_a, submission_a
):
    client.force_login(curator)
    url = f"/admin/patients/patient/{patient_a.pk}/change/"
    response, events, request_id = visit(client, url)
    assert response.status_code == 200
    assert_one_read(events, request_id, action="audit.view", actor=curator, obj=patient_a)
    page = response.content.decode()
    assert "submission.create" in page and "audit.view" not in page
    csv_response = client.get(f"/admin/patients/patient/{patient_a.pk}/trail.csv")
    rows = csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode()))
    assert [row["action"] for row in rows] == ["submission.create", "audit.view"]


def test_reading_the_audit_trail_in_the_admin_is_audited(client, curator, submission_a):
    client.force_login(curator)
    _, events, request_id = visit(client, "/admin/audit/auditevent/", action="submission.create")
    listed = assert_one_read(events, request_id, action="audit.view", actor=curator)
    created = AuditEvent.objects.get(action="submission.create")
    assert listed.context["ids"] == [str(created.pk)]
    response, events, request_id = visit(client, f"/admin/audit/auditevent/{created.pk}/change/")
    assert response.status_code == 200
    assert_one_read(events, request_id, action="audit.view", actor=curator, obj=created)


def test_a_coordinator_sent_away_from_the_admin_writes_nothing(client, coordinator_a, submission_a):
    client.force_login(coordinator_a)
    response, events, _ = visit(client, f"/admin/submissions/submission/{submission_a.pk}/change/")
    assert response.status_code == 302 and events == []


def test_every_read_action_written_by_pages_is_known_as_a_read(
    client, curator, patient_a, submission_a, query_a, issue_a
):
    client.force_login(curator)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    for url in [
        "/",
        f"/patients/{patient_a.pseudonym}/",
        "/queries/",
        "/quality/",
        "/admin/submissions/submission/",
        f"/admin/patients/patient/{patient_a.pk}/change/",
        "/admin/audit/auditevent/",
    ]:
        client.get(url)
    written = set(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
    assert written == {
        "patient.view",
        "data_query.view",
        "quality_issue.view",
        "submission.view",
        "audit.view",
    }
    assert written <= set(READ_ACTIONS)


# --- The quality API, audited as the other record-level API reads ---------------------------


def test_the_quality_api_audits_its_reads_and_refusals_write_nothing(
    coordinator_a, issue_a, issue_b
):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(coordinator_a)
    _, events, request_id = visit(client, "/api/v1/quality/issues/")
    listed = assert_one_read(events, request_id, action="api.read", actor=coordinator_a)
    assert listed.context["ids"] == [str(issue_a.pk)]
    assert listed.context["object_type"] == "quality.qualityissue"
    _, events, request_id = visit(client, f"/api/v1/quality/issues/{issue_a.pk}/")
    assert_one_read(events, request_id, action="api.read", actor=coordinator_a, obj=issue_a)
    response, events, _ = visit(client, f"/api/v1/quality/issues/{issue_b.pk}/")
    assert response.status_code == 404 and events == []
