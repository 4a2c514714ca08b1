"""The audit trail for curators: a patient's whole history in labels, and CSV for inspections."""

import csv
import io

import pytest

from registry.audit.models import AuditEvent
from registry.patients.services import do_enrol_patient
from registry.submissions.services import do_save_submission
from tests.factories import assessment_schema, publish_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(coordinator_a, site_a):
    version = publish_form(assessment_schema())
    patient = do_enrol_patient(
        coordinator_a, site_a, local_id="TRAIL-1", sex="female", year_of_birth=2015
    ).patient
    data = {"age_months": 40, "mm_present": "1", "wt_grade": "1"}
    do_save_submission(coordinator_a, patient, version, data, instance=1)
    do_save_submission(
        coordinator_a, patient, version, {**data, "mm_present": "0", "wt_grade": None}, instance=1
    )
    return patient


def test_patient_trail_lists_every_change_in_order_with_labels(client, curator, patient):
    client.force_login(curator)
    page = client.get(f"/admin/patients/patient/{patient.pk}/change/").content.decode()
    assert (
        page.index("patient.create")
        < page.index("submission.create")
        < page.index("submission.update")
    )
    assert "Mirror movements present: Yes → No" in page
    assert "Woods &amp; Teuber grade: Grade 1 → (blank)" in page


def test_patient_trail_downloads_as_csv_and_the_download_is_audited(client, curator, patient):
    client.force_login(curator)
    response = client.get(f"/admin/patients/patient/{patient.pk}/trail.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == [
        "patient.create",
        "submission.create",
        "submission.update",
    ]
    assert rows[0]["user"] == "coord_a"
    assert AuditEvent.objects.filter(action="audit.export", actor=curator).exists()


def test_audit_events_export_as_csv_from_the_list(client, curator, patient):
    client.force_login(curator)
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = client.post(
        "/admin/audit/auditevent/", {"action": "export_csv", "_selected_action": ids}
    )
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("time,user,action")
    assert len(body.splitlines()) == len(ids) + 1


def test_coordinators_cannot_read_the_trail_in_the_admin(client, coordinator_a, patient):
    client.force_login(coordinator_a)
    response = client.get(f"/admin/patients/patient/{patient.pk}/trail.csv")
    assert response.status_code == 302
