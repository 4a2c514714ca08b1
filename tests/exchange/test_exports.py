"""Export content: harmonised columns, checkbox columns, de-identification, streaming."""

from __future__ import annotations

import csv
import io
import itertools
import json

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from registry.exchange import pgcopy
from registry.exchange.export_spec import ExportSpec
from registry.exchange.flat_export import FlatExport
from registry.exchange.layout import current_layout
from registry.exchange.pgcopy import can_copy, copy_chunks
from registry.exchange.record_export import RecordExport, long_rows
from registry.exchange.writers import csv_chunks
from registry.patients.models import Patient
from registry.submissions.services import BulkItem, do_save_submissions_bulk
from tests.exchange.registry_data import ENROLMENT, enrol, save, version
from tests.factories import api_token_for, assessment_schema, publish_form

pytestmark = pytest.mark.django_db


def flat(user, **spec) -> list[dict[str, str]]:
    export = FlatExport(user, ExportSpec(**spec))
    text = "".join(csv_chunks(export.header(), export.rows()))
    return list(csv.DictReader(io.StringIO(text)))


def test_versions_line_up_under_the_latest_names(coordinator_a, patient_a):
    rows = flat(coordinator_a, forms=("mirror_movements",))
    assert [row["redcap_repeat_instance"] for row in rows] == ["1", "2"]
    v1_row, v2_row = rows
    assert v1_row["wt_grade_left_task"] == "2"  # wt_grade on version 1
    assert v1_row["wt_grade_right_task"] == ""  # not asked on version 1
    assert v2_row["wt_grade_left_task"] == "3" and v2_row["wt_grade_right_task"] == "1"
    assert "wt_grade" not in v1_row


def test_checkbox_fields_export_one_column_per_option(coordinator_a, patient_a):
    v1_row, v2_row = flat(coordinator_a, forms=("mirror_movements",))
    columns = [name for name in v1_row if name.startswith("body_regions___")]
    assert columns == [
        "body_regions___distal",
        "body_regions___proximal",
        "body_regions___whole_upper_limb",
        "body_regions___lower_limbs",
        "body_regions___unk",
    ]
    assert [v1_row[c] for c in columns] == ["1", "0", "0", "0", "0"]
    assert [v2_row[c] for c in columns] == ["1", "1", "0", "0", "0"]


def test_a_checkbox_answered_with_a_missing_code_ticks_that_code(coordinator_a, patient_a):
    save(
        coordinator_a,
        patient_a,
        "mirror_movements",
        {"mm_age_months": 50, "mm_present": "1", "body_regions": "UNK"},
    )
    row = flat(coordinator_a, forms=("mirror_movements",))[-1]
    assert row["body_regions___unk"] == "1" and row["body_regions___distal"] == "0"


def test_the_record_row_carries_sex_year_of_birth_and_non_repeating_forms(coordinator_a, patient_a):
    base = flat(coordinator_a)[0]
    assert base["redcap_repeat_instrument"] == ""
    assert (base["sex"], base["year_of_birth"]) == ("female", "2015")
    assert base["enrol_age_months"] == "30" and base["enrollment_complete"] == "2"
    assert base["mm_age_months"] == "" and base["mirror_movements_complete"] == ""


def test_a_form_never_filled_reads_incomplete_unless_asked_for_blank(
    coordinator_a, site_a, registry_forms
):
    enrol(coordinator_a, site_a, "A-0100")
    assert flat(coordinator_a)[0]["enrollment_complete"] == "0"
    assert flat(coordinator_a, blank_for_gray=True)[0]["enrollment_complete"] == ""


def test_researchers_get_no_unscreened_free_text(
    settings, coordinator_a, researcher, site_a, registry_forms
):
    settings.STATS_SUPPRESSION_THRESHOLD = 1  # one patient: k-anonymity is not the point
    patient = enrol(coordinator_a, site_a, "A-0200")
    save(
        coordinator_a,
        patient,
        "enrollment",
        {
            **ENROLMENT,
            "genetic_testing": "1",
            "gene": "other",
            "gene_other": "ARHGEF7",
            "hgvs_variant": "c.1234G>A",
        },
    )
    coordinator_row = flat(coordinator_a, forms=("enrollment",))[0]
    assert coordinator_row["gene_other"] == "ARHGEF7"
    researcher_row = flat(researcher, forms=("enrollment",))[0]
    # phi_screen: false fields never reach researchers; screened free text does.
    assert "gene_other" not in researcher_row and "hgvs_variant" not in researcher_row
    assert researcher_row["other_diagnoses"] == "Hydrocephalus, shunted"
    assert researcher_row["gene"] == "other"
    records = [
        r.data for r in RecordExport(researcher, ExportSpec(forms=("enrollment",))).records()
    ]
    assert "gene_other" not in records[0] and records[0]["gene"] == "other"


def test_text_unscreened_in_any_version_is_withheld_from_researchers(
    settings, coordinator_a, researcher, site_a, db
):
    settings.STATS_SUPPRESSION_THRESHOLD = 1  # one patient: k-anonymity is not the point
    unscreened = assessment_schema(1)
    unscreened["fields"][3]["phi_screen"] = False
    v1 = publish_form(unscreened)
    publish_form(assessment_schema(2))
    patient = Patient.objects.create(
        site=site_a, pseudonym="SITEA-TEST1", sex="male", year_of_birth=2016
    )
    save_data = {"age_months": 20, "mm_present": "0", "findings": "see the letter"}
    do_save_submissions_bulk(coordinator_a, [BulkItem(patient, v1, save_data)])
    assert "findings" in flat(coordinator_a)[1]
    assert "findings" not in flat(researcher)[1]


def test_files_are_withheld_from_researchers(coordinator_a, researcher, site_a, db):
    schema = assessment_schema(1)
    schema["fields"].append({"name": "scan", "type": "file", "label": "MRI scan"})
    publish_form(schema)
    assert "scan" in FlatExport(coordinator_a, ExportSpec()).columns
    assert "scan" not in FlatExport(researcher, ExportSpec()).columns


def test_researchers_cannot_filter_on_withheld_fields(researcher, patient_a):
    from registry.exchange.export_spec import ExportError

    with pytest.raises(ExportError, match="withheld"):
        FlatExport(researcher, ExportSpec(filter_logic="[gene_other] = 'DCC'"))


def test_long_rows_hold_one_value_each_under_harmonised_names(coordinator_a, patient_a):
    rows = list(
        long_rows(RecordExport(coordinator_a, ExportSpec(forms=("mirror_movements",))).records())
    )
    assert (patient_a.pseudonym, "mirror_movements", "1", "1", "wt_grade_left_task", "2") in rows
    assert (patient_a.pseudonym, "mirror_movements", "2", "2", "body_regions", "proximal") in rows


def test_the_layout_lists_older_codes_of_a_checkbox(registry_forms):
    regions = current_layout().fields["body_regions"]
    assert regions.codes[-1] == "UNK" and regions.labels["UNK"] == "Unknown"


@pytest.fixture
def many_rows(coordinator_a, site_a, registry_forms) -> int:
    """2,500 patients with one assessment each, written in bulk."""
    patients = Patient.objects.bulk_create(
        Patient(site=site_a, pseudonym=f"SITEA-{n:05d}-BULK0", sex="female", year_of_birth=2015)
        for n in range(2500)
    )
    mm = version("mirror_movements")
    do_save_submissions_bulk(
        coordinator_a,
        [
            BulkItem(patient, mm, {"mm_age_months": n % 200, "mm_present": "0"})
            for n, patient in enumerate(patients)
        ],
    )
    return len(patients)


def test_a_large_flat_export_streams_in_chunks(coordinator_a, many_rows):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    response = client.get("/api/v1/exports/flat-csv/", {"form": "mirror_movements"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    chunks = list(response.streaming_content)
    assert len(chunks) > 2  # written as it goes, never as one string
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == many_rows
    assert {row["redcap_repeat_instrument"] for row in rows} == {"mirror_movements"}


def test_ndjson_and_json_hold_typed_values(coordinator_a, token_a, patient_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_a}")
    ndjson = b"".join(client.get("/api/v1/exports/ndjson/").streaming_content).decode()
    records = [json.loads(line) for line in ndjson.splitlines()]
    assert len(records) == 3
    mm = [r for r in records if r["form"] == "mirror_movements"]
    assert mm[0]["data"]["mm_age_months"] == 36 and mm[0]["version"] == 1
    assert mm[0]["data"]["wt_grade_left_task"] == "2"
    as_json = json.loads(b"".join(client.get("/api/v1/exports/json/").streaming_content))
    assert as_json == records


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize(
    "spec",
    [
        ExportSpec(),
        ExportSpec(forms=("mirror_movements",), data_access_groups=True),
        ExportSpec(fields=("record_id", "sex", "body_regions", "handedness"), blank_for_gray=True),
        ExportSpec(statuses=("unverified",), csv_delimiter=";"),
    ],
)
def test_copy_writes_the_same_csv_as_python(
    spec, curator, coordinator_a, site_a, patient_a, patient_b
):
    tricky = enrol(coordinator_a, site_a, "A-0400")
    save(
        coordinator_a,
        tricky,
        "enrollment",
        {**ENROLMENT, "other_diagnoses": 'Chiari "type 2", shunted;\nsecond line'},
    )
    save(
        coordinator_a,
        tricky,
        "mirror_movements",
        {"mm_age_months": 50, "mm_present": "1", "body_regions": "UNK"},
        number=1,
    )
    enrol(coordinator_a, site_a, "A-0401")  # a record with no forms yet
    export = FlatExport(curator, spec)
    assert can_copy(export)
    by_copy = "".join(copy_chunks(export))
    by_python = "".join(csv_chunks(export.header(), export.rows(), spec.csv_delimiter))
    assert by_copy == by_python
    assert len(by_copy.splitlines()) > 2


def _plan_nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_the_copy_query_is_one_append_postgresql_can_share_among_workers(
    curator, coordinator_a, site_a, patient_a
):
    save(
        coordinator_a,
        patient_a,
        "mirror_movements",
        {"mm_age_months": 50, "mm_present": "1", "body_regions": "UNK"},
        number=1,
    )
    sql, params = pgcopy._query(FlatExport(curator, ExportSpec(data_access_groups=True)))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    kinds = [node["Node Type"] for node in _plan_nodes(plan[0]["Plan"])]
    # A CTE scan or a LIMIT/OFFSET fence keeps a plan on one process, and so does a subquery
    # over the branches (their columns of different types) between the sort and the append.
    assert "CTE Scan" not in kinds and "Limit" not in kinds
    above_the_branches = list(itertools.takewhile(lambda kind: kind != "Append", kinds))
    assert "Append" in kinds
    assert set(above_the_branches) <= {"Sort", "Gather Merge"}


def test_labels_and_filters_take_the_python_path(curator, patient_a):
    assert not can_copy(FlatExport(curator, ExportSpec(labels=True)))
    assert not can_copy(FlatExport(curator, ExportSpec(filter_logic="[mm_present] = '1'")))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_writes_numbers_as_python_does(coordinator_a, site_a, db):
    schema = assessment_schema(1)
    schema["fields"].append(
        {"name": "weight_kg", "type": "text", "validation": "number", "label": "Weight (kg)"}
    )
    version_1 = publish_form(schema)
    patients = [
        Patient.objects.create(
            site=site_a, pseudonym=f"SITEA-NUM0{n}", sex="male", year_of_birth=2016
        )
        for n in range(3)
    ]
    do_save_submissions_bulk(
        coordinator_a,
        [
            BulkItem(patient, version_1, {"age_months": 20, "mm_present": "0", "weight_kg": weight})
            for patient, weight in zip(patients, ["35", "35.70", "0.5"], strict=True)
        ],
    )
    export = FlatExport(coordinator_a, ExportSpec())
    by_copy = "".join(copy_chunks(export))
    assert by_copy == "".join(csv_chunks(export.header(), export.rows()))
    assert ",35," in by_copy and ",35.7," in by_copy
