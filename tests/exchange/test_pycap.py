"""PyCap, unchanged, against a live registry: what a REDCap user's script does works here.

The live server runs in a thread on a transactional database, so everything the tests set up
is committed and visible to it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
import redcap
from redcap import RedcapError
from redcap import request as redcap_request

from registry.patients.models import Patient
from registry.submissions.models import Submission
from tests.exchange.registry_data import MM_V1

pytestmark = pytest.mark.django_db(transaction=True)


def _project(live_server: Any, token: str) -> Iterator[redcap.Project]:
    if live_server.thread.connections_override:
        # With SQLite in memory the server's threads share the test's own connection, which
        # must not be closed: a request thread ending after the test would try to, and fail
        # (Django's own tests stub this method out the same way).
        live_server.thread.httpd._close_connections = lambda: None
    yield redcap.Project(live_server.url + "/redcap/api/", token)
    redcap_request._session.close()


@pytest.fixture
def project(live_server, token_a, patient_a, patient_b) -> Iterator[redcap.Project]:
    yield from _project(live_server, token_a)


@pytest.fixture
def researchers_project(
    settings, live_server, researcher_token, patient_a, patient_b
) -> Iterator[redcap.Project]:
    # k = 1: the two patients form classes of one, which a release would otherwise suppress.
    settings.STATS_SUPPRESSION_THRESHOLD = 1
    yield from _project(live_server, researcher_token)


def test_project_reads_as_a_classic_project_with_a_semantic_version(project):
    assert str(project.redcap_version) == "15.0.0"
    assert project.is_longitudinal is False
    assert project.def_field == "record_id"


def test_metadata_starts_with_record_id_then_sex_and_year_of_birth(project):
    metadata = project.export_metadata()
    names = [row["field_name"] for row in metadata]
    assert names[:3] == ["record_id", "sex", "year_of_birth"]
    sex = metadata[1]
    assert sex["form_name"] == "enrollment" and sex["field_type"] == "dropdown"
    assert sex["select_choices_or_calculations"].startswith("male, Male | female, Female")
    assert metadata[2]["text_validation_type_or_show_slider_number"] == "integer"
    # The latest version of each form: v2's renamed grade, not v1's.
    assert "wt_grade_left_task" in names and "wt_grade" not in names


def test_field_names_and_instruments(project):
    exported = project.export_field_names()
    regions = [
        row["export_field_name"] for row in exported if row["original_field_name"] == "body_regions"
    ]
    assert regions[:2] == ["body_regions___distal", "body_regions___proximal"]
    assert {
        "original_field_name": "enrollment_complete",
        "choice_value": "",
        "export_field_name": "enrollment_complete",
    } in exported
    instruments = [row["instrument_name"] for row in project.export_instruments()]
    assert instruments[0] == "enrollment" and "mirror_movements" in instruments


def test_records_as_json_cover_only_the_callers_site(project, patient_a, patient_b):
    records = project.export_records()
    assert {row["record_id"] for row in records} == {patient_a.pseudonym}
    base = next(row for row in records if row["redcap_repeat_instrument"] == "")
    assert base["sex"] == "female" and base["year_of_birth"] == "2015"
    assert base["handedness"] == "right" and base["enrollment_complete"] == "2"


def test_a_repeatable_form_exports_one_row_per_instance_across_versions(project, patient_a):
    records = project.export_records(forms=["mirror_movements"])
    assert [
        (row["redcap_repeat_instrument"], row["redcap_repeat_instance"]) for row in records
    ] == [("mirror_movements", 1), ("mirror_movements", 2)]
    first, second = records
    # Version 1's wt_grade arrives under version 2's name.
    assert first["wt_grade_left_task"] == "2" and second["wt_grade_left_task"] == "3"
    assert first["body_regions___distal"] == "1" and first["body_regions___proximal"] == "0"
    assert second["mirror_movements_complete"] == "1"
    assert "handedness" not in first


def test_records_as_csv_with_and_without_forms(project, patient_a):
    everything = list(csv.DictReader(io.StringIO(project.export_records(format_type="csv"))))
    assert len(everything) == 3
    assert list(everything[0])[:5] == [
        "record_id",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "sex",
        "year_of_birth",
    ]
    only_enrolment = list(
        csv.DictReader(io.StringIO(project.export_records(format_type="csv", forms=["enrollment"])))
    )
    assert len(only_enrolment) == 1
    assert only_enrolment[0]["record_id"] == patient_a.pseudonym
    assert "mm_age_months" not in only_enrolment[0]


def test_import_changes_a_row_and_appends_an_instance(project, patient_a):
    changed = project.import_records(
        [
            {
                "record_id": patient_a.pseudonym,
                "redcap_repeat_instrument": "mirror_movements",
                "redcap_repeat_instance": 1,
                "mm_age_months": 40,
            }
        ]
    )
    assert changed == {"count": 1}
    ids = project.import_records(
        [
            {
                "record_id": patient_a.pseudonym,
                "redcap_repeat_instrument": "mirror_movements",
                "redcap_repeat_instance": "new",
                "mm_age_months": 60,
                "mm_present": 0,
            }
        ],
        return_content="ids",
    )
    assert ids == [patient_a.pseudonym]
    stored = {
        s.instance: s.data
        for s in Submission.objects.filter(patient=patient_a, form__name="mirror_movements")
    }
    assert stored[1] == {**MM_V1, "mm_age_months": 40}
    assert stored[3] == {"mm_age_months": 60, "mm_present": "0"}


def test_import_creates_a_patient_from_a_local_id(project, site_a):
    answer = project.import_records(
        [
            {
                "record_id": "LOCAL-77",
                "sex": "male",
                "year_of_birth": 2010,
                "enrol_age_months": 12,
                "handedness": "left",
                "consent_registry": 1,
                "consent_recontact": 1,
                "primary_diagnosis": "cmc",
            }
        ],
        return_content="auto_ids",
        force_auto_number=True,
    )
    patient = Patient.objects.get(sex="male", site=site_a)
    assert answer == [f"{patient.pseudonym},1"]
    assert "LOCAL-77" not in str(answer)
    assert Submission.objects.get(patient=patient).data["handedness"] == "left"


def test_a_batch_with_one_invalid_row_is_rejected_whole(project, patient_a):
    before = list(Submission.objects.order_by("pk").values_list("row_version", "data"))
    with pytest.raises(RedcapError) as refused:
        project.import_records(
            [
                {"record_id": patient_a.pseudonym, "handedness": "left"},
                {
                    "record_id": patient_a.pseudonym,
                    "redcap_repeat_instrument": "mirror_movements",
                    "redcap_repeat_instance": 2,
                    "mm_age_months": "four",
                },
            ]
        )
    message = str(refused.value)
    assert patient_a.pseudonym in message and "mm_age_months" in message
    assert list(Submission.objects.order_by("pk").values_list("row_version", "data")) == before


def test_a_researchers_script_reads_the_records_of_its_tokens_release(
    researchers_project, patient_a, patient_b
):
    records = researchers_project.export_records()
    ids = {row["record_id"] for row in records}
    assert len(ids) == 2 and all(record.startswith("R-") for record in ids)
    assert not ids & {patient_a.pseudonym, patient_b.pseudonym}
    assert all("updated_at" not in row for row in records)
    # One token, one release: the next call, or a page of records, names them alike.
    assert researchers_project.export_records() == records
    chosen = sorted(ids)[0]
    narrowed = researchers_project.export_records(records=[chosen])
    assert narrowed and {row["record_id"] for row in narrowed} == {chosen}
    text = researchers_project.export_records(format_type="csv")
    assert chosen in text and patient_a.pseudonym not in text


def test_a_researchers_script_cannot_import(researchers_project, patient_a):
    with pytest.raises(RedcapError):
        researchers_project.import_records([{"record_id": "LOCAL-1", "handedness": "left"}])
