"""REDCap imports and the one rule of drafts: status-only rows, and required answers, which
only Complete needs (as in the web forms and the REST API)."""

from __future__ import annotations

import json

import pytest

from registry.submissions.models import Submission
from tests.exchange.registry_data import enrol, redcap_post

pytestmark = pytest.mark.django_db


def instances(patient, form="mirror_movements") -> dict[int, tuple[str, dict]]:
    return {
        s.instance: (s.status, s.data)
        for s in Submission.objects.filter(patient=patient, form__name=form)
    }


def send(token, *rows, **params):
    return redcap_post(
        token, content="record", format="json", data=json.dumps(list(rows)), **params
    )


def test_a_status_alone_creates_a_new_repeating_instance(token_a, patient_a):
    reply = send(
        token_a,
        {
            "record_id": patient_a.pseudonym,
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": "new",
            "mirror_movements_complete": "0",
        },
    )
    assert reply.status_code == 200 and reply.json() == {"count": 1}
    assert instances(patient_a)[3] == ("incomplete", {})


def test_a_status_alone_creates_a_numbered_instance_as_a_draft(token_a, patient_a):
    reply = send(
        token_a,
        {
            "record_id": patient_a.pseudonym,
            "redcap_repeat_instrument": "follow_up",
            "redcap_repeat_instance": 1,
            "follow_up_complete": 1,
        },
    )
    assert reply.status_code == 200
    assert instances(patient_a, "follow_up") == {1: ("unverified", {})}


def test_a_status_alone_cannot_make_an_empty_form_complete(token_a, patient_a):
    before = instances(patient_a)
    reply = send(
        token_a,
        {
            "record_id": patient_a.pseudonym,
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": "new",
            "mirror_movements_complete": 2,
        },
    )
    assert reply.status_code == 400
    assert "mm_age_months" in reply.json()["error"] and "required" in reply.json()["error"]
    assert instances(patient_a) == before


def test_status_0_for_a_form_never_filled_on_the_records_row_creates_nothing(
    coordinator_a, site_a, token_a, registry_forms
):
    patient = enrol(coordinator_a, site_a, "A-0009")
    # What an export writes for a form never filled, sent back.
    reply = send(token_a, {"record_id": patient.pseudonym, "enrollment_complete": "0"})
    assert reply.status_code == 200
    assert not Submission.objects.filter(patient=patient).exists()
    # Any other status creates the form, which its own rules then check (enrolment's consent
    # must be Yes even in a draft).
    reply = send(token_a, {"record_id": patient.pseudonym, "enrollment_complete": "1"})
    assert reply.status_code == 400 and "consent_registry" in reply.json()["error"]
    reply = send(
        token_a,
        {"record_id": patient.pseudonym, "enrollment_complete": "1", "consent_registry": "1"},
    )
    assert instances(patient, "enrollment") == {1: ("unverified", {"consent_registry": "1"})}


def test_an_import_saves_drafts_with_required_answers_missing(token_a, patient_a):
    reply = send(
        token_a,
        {
            "record_id": patient_a.pseudonym,
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": "new",
            "mm_age_months": 50,
        },
    )
    assert reply.status_code == 200
    assert instances(patient_a)[3] == ("incomplete", {"mm_age_months": 50})


def test_an_import_marked_complete_needs_the_required_answers(token_a, patient_a):
    before = instances(patient_a)
    reply = send(
        token_a,
        {
            "record_id": patient_a.pseudonym,
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": "new",
            "mm_age_months": 50,
            "mirror_movements_complete": 2,
        },
    )
    assert reply.status_code == 400 and "mm_present" in reply.json()["error"]
    assert instances(patient_a) == before


def test_blanking_a_required_answer_of_a_complete_form_is_refused(token_a, patient_a):
    before = instances(patient_a)
    reply = send(
        token_a,
        {
            "record_id": patient_a.pseudonym,
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": 1,
            "mm_present": "",
        },
        overwriteBehavior="overwrite",
    )
    assert reply.status_code == 400 and "mm_present" in reply.json()["error"]
    assert instances(patient_a) == before
