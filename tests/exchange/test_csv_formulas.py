"""CSV cells that begin like a spreadsheet formula are written as text, on every CSV path."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from registry.audit.exports import audit_csv_response
from registry.csvsafe import safe_cell
from registry.exchange.export_spec import ExportSpec
from registry.exchange.flat_export import FlatExport
from registry.exchange.pgcopy import can_copy, copy_chunks
from registry.exchange.record_export import LONG_HEADER, RecordExport, long_rows
from registry.exchange.writers import csv_chunks
from registry.patients.models import Patient
from registry.submissions.models import Submission
from tests.exchange.registry_data import ENROLMENT, enrol, save
from tests.factories import api_token_for, assessment_schema, publish_form

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tindent"]


@pytest.mark.parametrize("value", [*HOSTILE, "\rreturn"])
def test_a_cell_that_starts_like_a_formula_gets_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-3", "+1.5", "-0.25", "-2e-3", "-", "", "plain", "3-4", "a=b"])
def test_numbers_a_lone_dash_and_ordinary_text_stay_as_they_are(value):
    assert safe_cell(value) == value


@pytest.fixture
def hostile_records(coordinator_a, site_a):
    schema = assessment_schema(1)
    schema["fields"].append(
        {
            "name": "change_kg",
            "type": "text",
            "validation": "number",
            "label": "Change of weight (kg)",
        }
    )
    version_1 = publish_form(schema)
    patients = []
    for number, text in enumerate(HOSTILE):
        patient = Patient.objects.create(
            site=site_a, pseudonym=f"SITEA-FRM0{number}", sex="male", year_of_birth=2016
        )
        # Stored directly: the point is what the writers do with what is stored.
        Submission.objects.create(
            patient=patient,
            form=version_1.form,
            form_version=version_1,
            instance=1,
            status="complete",
            data={
                "age_months": 20,
                "mm_present": "0",
                "findings": text,
                "change_kg": -3 if number % 2 else "-3",
            },
        )
        patients.append(patient)
    return patients


def _cells(text: str, column: str) -> list[str]:
    return [
        row[column]
        for row in csv.DictReader(io.StringIO(text))
        if row.get("redcap_repeat_instrument", "assessment") == "assessment"
    ]


def test_the_flat_csv_quotes_formulas_and_keeps_negative_numbers(curator, hostile_records):
    export = FlatExport(curator, ExportSpec())
    text = "".join(csv_chunks(export.header(), export.rows()))
    assert _cells(text, "findings") == ["'" + value for value in HOSTILE]
    assert set(_cells(text, "change_kg")) == {"-3"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_the_copy_path_quotes_formulas_as_python_does(curator, hostile_records):
    export = FlatExport(curator, ExportSpec())
    assert can_copy(export)
    by_copy = "".join(copy_chunks(export))
    assert by_copy == "".join(csv_chunks(export.header(), export.rows()))
    assert _cells(by_copy, "findings") == ["'" + value for value in HOSTILE]
    assert set(_cells(by_copy, "change_kg")) == {"-3"}


def test_the_long_csv_quotes_formulas(curator, hostile_records):
    text = "".join(
        csv_chunks(LONG_HEADER, long_rows(RecordExport(curator, ExportSpec()).records()))
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["value"] for row in rows if row["field"] == "findings"] == [
        "'" + value for value in HOSTILE
    ]
    assert {row["value"] for row in rows if row["field"] == "change_kg"} == {"-3"}


def test_json_keeps_the_value_as_stored(curator, hostile_records):
    records = [record.as_json() for record in RecordExport(curator, ExportSpec()).records()]
    assert [record["data"]["findings"] for record in records] == HOSTILE
    flat = list(FlatExport(curator, ExportSpec()).dicts())
    assert [row["findings"] for row in flat if row["redcap_repeat_instrument"]] == HOSTILE


def test_the_redcap_api_csv_quotes_formulas(coordinator_a, site_a, registry_forms):
    patient = enrol(coordinator_a, site_a, "A-0500")
    save(coordinator_a, patient, "enrollment", {**ENROLMENT, "other_diagnoses": "=1+1"})
    token = api_token_for(coordinator_a)
    response = Client().post(
        "/redcap/api/",
        {"token": token, "content": "record", "format": "csv", "forms[0]": "enrollment"},
    )
    text = b"".join(response.streaming_content).decode()
    assert [row["other_diagnoses"] for row in csv.DictReader(io.StringIO(text))] == ["'=1+1"]
    as_json = Client().post(
        "/redcap/api/",
        {"token": token, "content": "record", "format": "json", "forms[0]": "enrollment"},
    )
    assert json.loads(b"".join(as_json.streaming_content))[0]["other_diagnoses"] == "=1+1"


def test_the_audit_csv_quotes_formulas():
    event = SimpleNamespace(
        at=timezone.now(),
        actor_username="=cmd",
        action="export",
        object_type="patient",
        object_id="1",
        object_label="@SUM(A1)",
        site=None,
        changes={},
        context={},
        request_id="-",
    )
    text = b"".join(audit_csv_response([event], "audit.csv").streaming_content).decode()
    row = next(iter(csv.DictReader(io.StringIO(text))))
    assert row["user"] == "'=cmd" and row["object"] == "'@SUM(A1)" and row["request_id"] == "-"
