"""Importing flat rows: the overlay rules, new patients, and all-or-nothing batches."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.audit.models import AuditEvent
from registry.exchange.imports import ImportOptions, ImportRejected, do_import_records
from registry.patients.models import Patient
from registry.submissions.models import Submission
from tests.exchange.registry_data import MM_V1, MM_V2

pytestmark = pytest.mark.django_db


def mm(patient, instance: int) -> Submission:
    return Submission.objects.get(patient=patient, form__name="mirror_movements", instance=instance)


def row(patient, instance: int, **values: object) -> dict[str, object]:
    return {
        "record_id": patient.pseudonym,
        "redcap_repeat_instrument": "mirror_movements",
        "redcap_repeat_instance": instance,
        **values,
    }


def test_normal_mode_leaves_blank_columns_alone(coordinator_a, patient_a):
    do_import_records(
        coordinator_a,
        [row(patient_a, 1, mm_age_months="37", neuro_other_findings="")],
        ImportOptions(),
    )
    assert mm(patient_a, 1).data == {**MM_V1, "mm_age_months": 37}


def test_overwrite_mode_erases_with_blanks(coordinator_a, patient_a):
    do_import_records(
        coordinator_a, [row(patient_a, 1, neuro_other_findings="")], ImportOptions(overwrite=True)
    )
    assert "neuro_other_findings" not in mm(patient_a, 1).data


def test_checkbox_columns_tick_and_untick_single_options(coordinator_a, patient_a):
    do_import_records(
        coordinator_a,
        [row(patient_a, 2, body_regions___distal="0", body_regions___lower_limbs="1")],
        ImportOptions(),
    )
    assert mm(patient_a, 2).data["body_regions"] == ["proximal", "lower_limbs"]


def test_blank_checkbox_columns_keep_ticks_unless_overwriting(coordinator_a, patient_a):
    do_import_records(coordinator_a, [row(patient_a, 2, body_regions___distal="")], ImportOptions())
    assert mm(patient_a, 2).data["body_regions"] == ["distal", "proximal"]
    do_import_records(
        coordinator_a, [row(patient_a, 2, body_regions___distal="")], ImportOptions(overwrite=True)
    )
    assert mm(patient_a, 2).data["body_regions"] == ["proximal"]


def test_checkbox_columns_take_json_numbers_and_words(coordinator_a, patient_a):
    do_import_records(
        coordinator_a,
        [row(patient_a, 2, body_regions___proximal=0, body_regions___lower_limbs=1)],
        ImportOptions(),
    )
    assert mm(patient_a, 2).data["body_regions"] == ["distal", "lower_limbs"]
    do_import_records(
        coordinator_a,
        [
            row(
                patient_a,
                2,
                body_regions___proximal=" Yes ",
                body_regions___lower_limbs="unchecked",
            )
        ],
        ImportOptions(),
    )
    assert mm(patient_a, 2).data["body_regions"] == ["distal", "proximal"]


def test_unticking_every_option_leaves_the_checkbox_unanswered(coordinator_a, patient_a):
    do_import_records(
        coordinator_a,
        [row(patient_a, 2, body_regions___proximal="0", body_regions___distal="0")],
        ImportOptions(),
    )
    assert "body_regions" not in mm(patient_a, 2).data


def test_a_ticked_missing_code_column_answers_the_whole_checkbox(coordinator_a, patient_a):
    do_import_records(
        coordinator_a,
        [
            row(
                patient_a,
                2,
                body_regions___unk="1",
                body_regions___distal="0",
                body_regions___proximal="0",
            )
        ],
        ImportOptions(),
    )
    assert mm(patient_a, 2).data["body_regions"] == "UNK"
    # Unticked options in normal mode leave the missing code alone.
    do_import_records(
        coordinator_a,
        [row(patient_a, 2, body_regions___distal="0", mm_age_months="49")],
        ImportOptions(),
    )
    assert mm(patient_a, 2).data["body_regions"] == "UNK"
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a,
            [row(patient_a, 2, body_regions___unk="1", body_regions___distal="1")],
            ImportOptions(),
        )
    assert [problem.field for problem in refused.value.problems] == ["body_regions"]


@pytest.mark.parametrize("value", ["2", 7, ["1"]])
def test_a_checkbox_column_neither_ticked_nor_unticked_is_refused_by_name(
    coordinator_a, patient_a, value
):
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a, [row(patient_a, 2, body_regions___distal=value)], ImportOptions()
        )
    (problem,) = refused.value.problems
    assert problem.field == "body_regions"
    assert "body_regions___distal must be 1 (checked) or 0 (unchecked)" in problem.message
    assert mm(patient_a, 2).data["body_regions"] == ["distal", "proximal"]


def test_older_versions_are_written_under_their_own_names(coordinator_a, patient_a):
    do_import_records(coordinator_a, [row(patient_a, 1, wt_grade_left_task="4")], ImportOptions())
    submission = mm(patient_a, 1)
    assert submission.form_version.number == 1 and submission.data["wt_grade"] == "4"


def test_a_field_the_instance_version_lacks_is_refused_by_name(coordinator_a, patient_a):
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a, [row(patient_a, 1, wt_grade_right_task="1")], ImportOptions()
        )
    (problem,) = refused.value.problems
    assert (problem.record, problem.field) == (patient_a.pseudonym, "wt_grade_right_task")
    assert "version 1" in problem.message


def test_status_travels_as_complete_codes(coordinator_a, patient_a):
    do_import_records(
        coordinator_a, [row(patient_a, 2, mirror_movements_complete="2")], ImportOptions()
    )
    assert mm(patient_a, 2).status == "complete"
    with pytest.raises(ImportRejected, match="must be 0"):
        do_import_records(
            coordinator_a, [row(patient_a, 2, mirror_movements_complete="7")], ImportOptions()
        )


def test_new_instances_append_after_the_last(coordinator_a, patient_a):
    result = do_import_records(
        coordinator_a,
        [
            row(patient_a, "new", mm_age_months=70, mm_present="0"),
            row(patient_a, "new", mm_age_months=80, mm_present="0"),
        ],
        ImportOptions(),
    )
    assert result.submissions_created == 2
    assert mm(patient_a, 3).data["mm_age_months"] == 70
    assert mm(patient_a, 4).data["mm_age_months"] == 80


def test_one_bad_row_rejects_the_batch_and_lists_every_problem(coordinator_a, patient_a):
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a,
            [
                row(patient_a, 1, mm_age_months="38"),
                row(patient_a, 2, mm_age_months="forty"),
                {"record_id": "SITEA-NOPE0-NOPE0", "handedness": "left"},
            ],
            ImportOptions(),
        )
    fields = {(p.record, p.field) for p in refused.value.problems}
    assert (patient_a.pseudonym, "mm_age_months") in fields
    assert ("SITEA-NOPE0-NOPE0", "record_id") in fields
    assert mm(patient_a, 1).data["mm_age_months"] == 36
    assert mm(patient_a, 1).row_version == 1


def test_fields_of_another_instrument_on_a_row_are_refused(coordinator_a, patient_a):
    with pytest.raises(ImportRejected, match="belongs to instrument enrollment"):
        do_import_records(coordinator_a, [row(patient_a, 1, handedness="left")], ImportOptions())


def test_a_patient_is_enrolled_from_a_local_id_that_is_never_kept(
    coordinator_a, site_a, registry_forms
):
    rows = [
        {"record_id": "mrn 4711", "sex": "female", "year_of_birth": "2018"},
        {
            "record_id": "MRN4711",
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": "new",
            **MM_V2,
        },
    ]
    result = do_import_records(coordinator_a, rows, ImportOptions(force_auto_number=True))
    patient = Patient.objects.get()
    assert result.records == [patient.pseudonym] and result.patients_created == 1
    assert patient.pseudonym.startswith("SITEA-")
    assert Submission.objects.get(patient=patient).data["wt_grade_left_task"] == "3"
    trail = " ".join(str(e.changes) + str(e.context) for e in AuditEvent.objects.all())
    assert "4711" not in trail


def test_new_records_have_no_submissions_looked_up(coordinator_a, site_a, registry_forms):
    rows = []
    for n in range(3):
        rows += [
            {"record_id": f"MRN-{n}", "sex": "male", "year_of_birth": "2017"},
            {
                "record_id": f"MRN-{n}",
                "redcap_repeat_instrument": "mirror_movements",
                "redcap_repeat_instance": 1,
                **MM_V2,
            },
            {
                "record_id": f"MRN-{n}",
                "redcap_repeat_instrument": "mirror_movements",
                "redcap_repeat_instance": "new",
                **MM_V2,
            },
        ]
    with CaptureQueriesContext(connection) as queries:
        result = do_import_records(coordinator_a, rows, ImportOptions(force_auto_number=True))
    assert result.patients_created == 3 and result.submissions_created == 6
    assert sorted(Submission.objects.values_list("instance", flat=True)) == [1, 1, 1, 2, 2, 2]
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and "submissions_submission" in q["sql"]
    ]
    assert reads == []


def test_a_local_id_enrolled_before_finds_that_patient(coordinator_a, site_a, patient_a):
    result = do_import_records(
        coordinator_a,
        [{"record_id": "A-0001", "handedness": "left"}],
        ImportOptions(force_auto_number=True),
    )
    assert result.records == [patient_a.pseudonym] and result.patients_created == 0


def test_a_new_patient_needs_sex_and_year_of_birth(coordinator_a, registry_forms):
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a,
            [{"record_id": "X-1", "handedness": "left"}],
            ImportOptions(force_auto_number=True),
        )
    assert {(p.record, p.field) for p in refused.value.problems} == {
        ("row 1", "sex"),
        ("row 1", "year_of_birth"),
    }
    assert not Patient.objects.exists()


def test_problems_of_new_records_name_the_row_not_the_local_id(coordinator_a, registry_forms):
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a,
            [{"record_id": "SECRET-99", "sex": "x", "year_of_birth": "2018"}],
            ImportOptions(force_auto_number=True),
        )
    assert "SECRET-99" not in refused.value.text()
    assert not Patient.objects.exists()


def test_sex_and_year_of_birth_update_the_patient_record(coordinator_a, patient_a):
    do_import_records(
        coordinator_a, [{"record_id": patient_a.pseudonym, "sex": "unknown"}], ImportOptions()
    )
    patient_a.refresh_from_db()
    assert patient_a.sex == "unknown" and patient_a.year_of_birth == 2015


def test_other_sites_records_are_not_found(coordinator_a, patient_a, patient_b):
    with pytest.raises(ImportRejected) as refused:
        do_import_records(
            coordinator_a,
            [{"record_id": patient_b.pseudonym, "handedness": "right"}],
            ImportOptions(),
        )
    assert "No such record" in refused.value.problems[0].message


def test_an_import_is_audited_per_submission_and_as_a_whole(coordinator_a, patient_a):
    before = AuditEvent.objects.filter(action="submission.update").count()
    do_import_records(
        coordinator_a,
        [row(patient_a, 1, mm_age_months="41"), row(patient_a, 2, mm_age_months="49")],
        ImportOptions(),
    )
    assert AuditEvent.objects.filter(action="submission.update").count() == before + 2
    summary = AuditEvent.objects.get(action="redcap.import")
    assert summary.context["submissions_updated"] == 2


def test_a_new_patient_is_not_kept_when_a_later_row_of_the_batch_fails(
    coordinator_a, site_a, registry_forms
):
    rows = [
        {"record_id": "MRN-NEW-1", "sex": "female", "year_of_birth": "2018"},
        {
            "record_id": "MRN-NEW-1",
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": 1,
            **MM_V2,
            "mm_age_months": "forty",
        },
    ]
    with pytest.raises(ImportRejected) as refused:
        do_import_records(coordinator_a, rows, ImportOptions(force_auto_number=True))
    (problem,) = refused.value.problems
    assert problem.field == "mm_age_months" and "(row 2)" in problem.message
    assert not Patient.objects.exists() and not Submission.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="patient").exists()
