"""A form's logic reading another form of the record: the web's service, the REST API and the
REDCap import judge a save on the record's stored values of the other form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from registry.exchange.imports import ImportOptions, ImportRejected, do_import_records
from registry.submissions.models import Submission
from registry.submissions.services import BulkItem, do_save_submission, do_save_submissions_bulk
from tests.factories import PatientFactory, api_token_for
from tests.other_forms import publish_intake_and_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def forms():
    return publish_intake_and_visit()


@pytest.fixture
def patient(site_a):
    return PatientFactory(site=site_a, pseudonym="SITEA-00042")


def test_a_field_shown_by_another_forms_answer_is_kept_and_the_calc_reads_it(
    coordinator_a, patient, forms
):
    intake, visit = forms
    do_save_submission(coordinator_a, patient, intake, {"weight_kg": "30", "smoker": "1"})
    outcome = do_save_submission(
        coordinator_a, patient, visit, {"visit_age_months": "40", "cigs_day": "5"}
    )
    assert outcome.submission.data == {"visit_age_months": 40, "cigs_day": 5, "dose_mg": 60}


def test_a_field_hidden_by_another_forms_answer_must_be_blank(coordinator_a, patient, forms):
    intake, visit = forms
    do_save_submission(coordinator_a, patient, intake, {"weight_kg": "30", "smoker": "0"})
    with pytest.raises(ValidationError) as refused:
        do_save_submission(coordinator_a, patient, visit, {"cigs_day": "5"})
    assert "must be blank" in refused.value.message_dict["cigs_day"][0]
    # With nothing stored of the intake, the question is not asked either, and the calc is blank.
    other = PatientFactory(site=patient.site, pseudonym="SITEA-00043")
    with pytest.raises(ValidationError):
        do_save_submission(coordinator_a, other, visit, {"cigs_day": "5"})
    saved = do_save_submission(coordinator_a, other, visit, {"visit_age_months": "3"})
    assert saved.submission.data == {"visit_age_months": 3}


def test_the_first_instance_of_a_repeating_form_is_the_one_read(coordinator_a, patient, site_a):
    from registry.crfs.selectors import schema_of
    from registry.crfs.services import do_publish_form_version
    from registry.formengine.schema import load_schema
    from tests.other_forms import INTAKE, VISIT

    intake = do_publish_form_version(None, load_schema({**INTAKE, "repeatable": True}))
    visit = do_publish_form_version(None, load_schema(VISIT, others=[schema_of(intake)]))
    do_save_submission(coordinator_a, patient, intake, {"weight_kg": "30"})
    do_save_submission(coordinator_a, patient, intake, {"weight_kg": "50"})
    outcome = do_save_submission(coordinator_a, patient, visit, {})
    assert outcome.submission.data == {"dose_mg": 60}


def test_the_rest_api_judges_a_save_on_the_other_forms_values(coordinator_a, patient, forms):
    intake, _ = forms
    do_save_submission(coordinator_a, patient, intake, {"weight_kg": "21", "smoker": "0"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    refused = client.post(
        "/api/v1/submissions/",
        {"patient": patient.pseudonym, "form": "visit", "data": {"cigs_day": 4}},
        format="json",
    )
    assert refused.status_code == 400
    assert "must be blank" in refused.json()["cigs_day"][0]
    created = client.post(
        "/api/v1/submissions/",
        {"patient": patient.pseudonym, "form": "visit", "data": {"visit_age_months": 7}},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["data"] == {"visit_age_months": 7, "dose_mg": 42}


def test_a_redcap_import_reads_the_other_form_from_the_same_batch(coordinator_a, patient, forms):
    rows = [
        {
            "record_id": patient.pseudonym,
            "redcap_repeat_instrument": "",
            "redcap_repeat_instance": "",
            "weight_kg": "25",
            "smoker": "1",
        },
        {
            "record_id": patient.pseudonym,
            "redcap_repeat_instrument": "visit",
            "redcap_repeat_instance": 1,
            "cigs_day": "3",
        },
    ]
    do_import_records(coordinator_a, rows, ImportOptions())
    visit = Submission.objects.get(patient=patient, form__name="visit")
    assert visit.data == {"cigs_day": 3, "dose_mg": 50}
    # When the batch's intake says "does not smoke", the same visit row is refused.
    with pytest.raises(ImportRejected) as refused:
        do_import_records(coordinator_a, [{**rows[0], "smoker": "0"}, rows[1]], ImportOptions())
    assert "must be blank" in refused.value.text()
    assert Submission.objects.get(patient=patient, form__name="intake").data["smoker"] == "1"


def test_a_bulk_save_reads_the_other_forms_in_one_query_per_chunk(coordinator_a, site_a, forms):
    intake, visit = forms
    patients = [PatientFactory(site=site_a, pseudonym=f"SITEA-{n:05d}") for n in range(100, 130)]
    do_save_submissions_bulk(
        coordinator_a, [BulkItem(p, intake, {"weight_kg": "10"}) for p in patients]
    )
    with CaptureQueriesContext(connection) as captured:
        outcomes = do_save_submissions_bulk(
            coordinator_a, [BulkItem(p, visit, {}) for p in patients]
        )
    assert {outcome.submission.data["dose_mg"] for outcome in outcomes} == {20}
    reads = [
        query["sql"]
        for query in captured.captured_queries
        if '"submissions_submission"."data"' in query["sql"]
        and query["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert len(reads) == 1
