"""Hostile input to the web forms: refused by field (or as a whole), never a 500, nothing saved.

A form with a wrong answer is shown again with the message next to its field and "Nothing was
saved." (200, as for any mistake); a request the server will not read at all is a 400.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from registry.audit.models import AuditEvent
from registry.formengine.validation import MAX_NOTES_LENGTH, MAX_TEXT_LENGTH
from registry.patients.models import Patient
from registry.submissions.models import Submission
from registry.web.working_site import SESSION_KEY
from tests.web.helpers import MM_PRESENT

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
NOTE = "Brisk reflexes on the left, mild hypotonia of the right hand. "


def url(patient, form="mirror_movements", instance="new"):
    return f"/patients/{patient.pseudonym}/{form}/{instance}/"


def snapshot():
    return (
        Patient.objects.count(),
        Submission.objects.count(),
        AuditEvent.objects.count(),
        sorted(Submission.objects.values_list("pk", "row_version", "data")),
    )


def post_raw(client, path: str, fields: dict[str, str], raw: str = ""):
    """POST form-encoded, with `raw` appended as it is (percent escapes of any bytes)."""
    body = urlencode({"_status": "incomplete", "_row_version": "0", **fields}, doseq=True)
    return client.post(path, body + raw, content_type="application/x-www-form-urlencoded")


# (raw form-encoded pair, status, what the page says)
ASSESSMENT_PROBES = {
    "10 MB note": ("&neuro_other_findings=" + "x" * 10 * MB, 200, f"{MAX_NOTES_LENGTH:,}"),
    "20,000-character note": (
        "&" + urlencode({"neuro_other_findings": (NOTE * 400)[:20_000]}),
        200,
        f"{MAX_NOTES_LENGTH:,}",
    ),
    "a text answer over its limit": (
        "&mm_age_months=" + "9" * (MAX_TEXT_LENGTH + 1),
        200,
        f"{MAX_TEXT_LENGTH:,}",
    ),
    "a body over the limit": ("&neuro_other_findings=" + "x" * 17 * MB, 400, ""),
    "NUL": ("&neuro_other_findings=a%00b", 400, "NUL"),
    "a key with a NUL": ("&a%00b=1", 400, "NUL"),
}


@pytest.mark.parametrize(
    ("raw", "status", "words"), ASSESSMENT_PROBES.values(), ids=ASSESSMENT_PROBES
)
def test_a_hostile_answer_is_refused_and_nothing_is_saved(
    client, coordinator_a, patient_a, registry_forms, raw, status, words
):
    client.force_login(coordinator_a)
    before = snapshot()
    response = post_raw(client, url(patient_a), MM_PRESENT, raw)
    page = response.content.decode()
    assert response.status_code == status, page[:300]
    assert words in page
    if status == 200:
        assert "Nothing was saved." in page
    assert len(page) < 2 * MB, "the page echoes the hostile value"
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    ["%ED%A0%80", "%ED%BF%BF", "%FF%FE", "%C3"],
    ids=["lone high surrogate", "lone low surrogate", "not UTF-8", "half a character"],
)
def test_bytes_that_are_not_text_are_read_as_replacement_characters(
    client, coordinator_a, patient_a, registry_forms, raw
):
    # Browsers send UTF-8; what is not is read with U+FFFD in place, as Django decodes forms,
    # so no surrogate reaches the database.
    client.force_login(coordinator_a)
    response = post_raw(client, url(patient_a), MM_PRESENT, f"&neuro_other_findings=left{raw}hand")
    assert response.status_code == 302
    saved = Submission.objects.get(patient=patient_a, data__has_key="neuro_other_findings")
    note = saved.data["neuro_other_findings"]
    assert note.startswith("left\ufffd") and note.endswith("hand")


def test_a_note_at_the_limit_is_saved(client, coordinator_a, patient_a, registry_forms):
    client.force_login(coordinator_a)
    note = (NOTE * 400)[:MAX_NOTES_LENGTH].strip()
    response = post_raw(client, url(patient_a), {**MM_PRESENT, "neuro_other_findings": note})
    assert response.status_code == 302, response.content.decode()[:300]
    assert Submission.objects.filter(data__neuro_other_findings=note).exists()


ENROL_PROBES = {
    "10 MB local ID": ("&local_id=" + "7" * 10 * MB, 200),
    "NUL in the local ID": ("&local_id=A%00B", 400),
    "a year of 5,000 digits": ("&local_id=A-1&year_of_birth=" + "9" * 5000, 200),
}


@pytest.mark.parametrize(("raw", "status"), ENROL_PROBES.values(), ids=ENROL_PROBES)
def test_a_hostile_enrolment_is_refused_and_nobody_is_enrolled(
    client, coordinator_a, site_a, raw, status
):
    client.force_login(coordinator_a)
    session = client.session
    session[SESSION_KEY] = site_a.pk
    session.save()
    before = snapshot()
    fields = {"sex": "female", "year_of_birth": "2015"}
    if "year_of_birth" in raw:
        fields = {"sex": "female"}
    body = urlencode(fields) + raw
    response = client.post("/enrol/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == status, response.content.decode()[:300]
    assert snapshot() == before
