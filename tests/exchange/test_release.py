"""Researchers' releases: pseudonyms of their own, no timestamps, k-anonymity with a manifest."""

from __future__ import annotations

import csv
import hmac
import io
import json
import re
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from registry.audit.models import AuditEvent
from registry.exchange.export_spec import ExportSpec
from registry.exchange.flat_export import FlatExport
from registry.exchange.pgcopy import can_copy, copy_chunks
from registry.exchange.record_export import RecordExport
from registry.exchange.release import (
    Release,
    new_release_id,
    registry_pseudonyms,
    releasable_to_researchers,
    token_release_id,
)
from registry.exchange.writers import csv_chunks
from registry.formengine.schema import load_schema
from registry.patients.models import Patient
from registry.submissions.models import Submission
from tests.exchange.registry_data import version
from tests.factories import UserFactory, api_token_for

pytestmark = pytest.mark.django_db

# (site, sex, year of birth, lesion type, lesion level, how many)
COHORT = [
    ("A", "female", 2015, "cmmc", "c1", 4),  # a class of 4: released as it is
    ("A", "female", 2016, "cmmc", "c1", 2),  # 2 + 1: together once the year is a band
    ("A", "female", 2017, "cmmc", "c1", 1),
    ("A", "male", 2012, "sb_occulta", "lumbar", 2),  # 2 at A + 1 at B: together once the
    ("B", "male", 2013, "sb_occulta", "lumbar", 1),  # year is a band and the site "other"
    ("B", "male", 2001, "other", "occipital", 1),  # a rare combination: left out
]


@pytest.fixture
def cohort(settings, registry_forms, site_a, site_b):
    settings.STATS_SUPPRESSION_THRESHOLD = 3
    lesion = version("dysraphic_lesion")
    sites = {"A": site_a, "B": site_b}
    patients = []
    for site, sex, year, kind, level, count in COHORT:
        for _ in range(count):
            patient = Patient.objects.create(
                site=sites[site],
                pseudonym=f"{sites[site].code}-P{len(patients):03d}",
                sex=sex,
                year_of_birth=year,
            )
            Submission.objects.create(
                patient=patient,
                form=lesion.form,
                form_version=lesion,
                instance=1,
                status="complete",
                data={"lesion_type": kind, "lesion_level": level, "lesion_dx_age_months": 0},
            )
            patients.append(patient)
    return patients


def _rows(export: FlatExport) -> list[dict[str, str]]:
    text = "".join(csv_chunks(export.header(), export.rows()))
    return [
        row for row in csv.DictReader(io.StringIO(text)) if not row.get("redcap_repeat_instrument")
    ]


def test_a_rare_combination_is_generalised_then_suppressed_and_reported(researcher, cohort):
    export = FlatExport(researcher, ExportSpec())
    rows = _rows(export)
    assert Counter((row["year_of_birth"], row["redcap_data_access_group"]) for row in rows) == {
        ("2015", "sitea"): 4,
        ("2015-2019", "sitea"): 3,
        ("2010-2014", "other"): 3,
    }
    assert export.manifest is not None
    assert export.manifest.as_json() == {
        "release": export.release.release_id,
        "k": 3,
        "quasi_identifiers": ["sex", "year_of_birth", "site", "lesion_type", "lesion_level"],
        "patients_considered": 11,
        "patients_released": 10,
        "year_of_birth_banded": 6,
        "site_generalised": 3,
        "suppressed": 1,
    }
    lesions = [
        row
        for row in csv.DictReader(
            io.StringIO(
                "".join(csv_chunks(export.header(), FlatExport(researcher, ExportSpec()).rows()))
            )
        )
        if row.get("redcap_repeat_instrument") == "dysraphic_lesion"
    ]
    assert "occipital" not in {row["lesion_level"] for row in lesions}
    assert len(lesions) == 10


def test_record_level_json_carries_the_band_and_no_timestamps(researcher, curator, cohort):
    released = [record.as_json() for record in RecordExport(researcher, ExportSpec()).records()]
    assert released and all("updated_at" not in record for record in released)
    assert {record["year_of_birth"] for record in released} == {2015, "2015-2019", "2010-2014"}
    assert {record["site"] for record in released} == {"SITEA", "OTHER"}
    full = [record.as_json() for record in RecordExport(curator, ExportSpec()).records()]
    assert len(full) == 11 and all("updated_at" in record for record in full)


def test_each_release_and_each_researcher_has_its_own_pseudonyms(settings, researcher, cohort):
    registry = {patient.pseudonym for patient in cohort}
    first, second = FlatExport(researcher, ExportSpec()), FlatExport(researcher, ExportSpec())
    other = FlatExport(UserFactory(username="researcher2", role="researcher"), ExportSpec())
    ids = [{row["record_id"] for row in _rows(export)} for export in (first, second, other)]
    assert all(len(found) == 10 and not found & registry for found in ids)
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    # The registry maps a release back from its id (which the audit keeps) and its key.
    back = registry_pseudonyms(first.release, ids[0])
    assert set(back) == ids[0] and set(back.values()) < registry
    # Without the registry's key the same release id gives other pseudonyms: nothing links.
    settings.REGISTRY_PSEUDONYM_KEY = "another key"
    guessed = Release(first.release.user_id, first.release.release_id)
    assert not {guessed.pseudonym(p) for p in registry} & ids[0]


def test_curators_keep_the_registry_pseudonyms_and_every_record(curator, cohort):
    export = FlatExport(curator, ExportSpec())
    assert export.release is None and export.manifest is None
    rows = _rows(export)
    assert {row["record_id"] for row in rows} == {patient.pseudonym for patient in cohort}
    assert {row["year_of_birth"] for row in rows} == {
        "2015",
        "2016",
        "2017",
        "2012",
        "2013",
        "2001",
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_the_copy_path_writes_the_release_as_python_does(researcher, cohort):
    export = FlatExport(researcher, ExportSpec())
    assert can_copy(export)
    by_copy = "".join(copy_chunks(export))
    assert by_copy == "".join(csv_chunks(export.header(), export.rows()))
    assert "2015-2019" in by_copy and ",other," in by_copy
    assert not any(patient.pseudonym in by_copy for patient in cohort)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_release_with_every_record_left_out_is_a_header_alone(researcher, registry_forms, site_a):
    """A release with no record in it (every class below the threshold, or no patient yet)
    is an empty file, not a refusal of the COPY path's own check."""
    export = FlatExport(researcher, ExportSpec())
    assert can_copy(export)
    by_copy = "".join(copy_chunks(export))
    assert by_copy == "".join(csv_chunks(export.header(), export.rows()))
    assert by_copy.count("\n") == 1


def test_a_streamed_download_is_one_release_with_its_manifest_in_headers(researcher, cohort):
    client = APIClient()
    client.force_authenticate(researcher)
    responses = [client.get("/api/v1/exports/flat-csv/") for _ in range(2)]
    manifests = [json.loads(response["Registry-Release-Manifest"]) for response in responses]
    assert manifests[0]["release"] == responses[0]["Registry-Release"]
    assert manifests[0]["release"] != manifests[1]["release"]
    assert manifests[0]["suppressed"] == 1
    bodies = [b"".join(response.streaming_content).decode() for response in responses]
    firsts = [body.splitlines()[1].split(",")[0] for body in bodies]
    assert firsts[0] != firsts[1]
    audited = AuditEvent.objects.filter(action="export").order_by("pk")
    assert [event.context["release"]["release"] for event in audited] == [
        manifest["release"] for manifest in manifests
    ]


def test_a_redcap_token_is_one_release_whose_records_can_be_asked_for(researcher, cohort):
    token = api_token_for(researcher)

    def export(**params: str) -> list[dict]:
        response = Client().post(
            "/redcap/api/", {"token": token, "content": "record", "format": "json", **params}
        )
        return json.loads(b"".join(response.streaming_content))

    first, again = export(), export()
    ids = [row["record_id"] for row in first if not row["redcap_repeat_instrument"]]
    assert ids == [row["record_id"] for row in again if not row["redcap_repeat_instrument"]]
    assert not set(ids) & {patient.pseudonym for patient in cohort}
    narrowed = export(**{"records[0]": ids[0]})
    assert {row["record_id"] for row in narrowed} == {ids[0]}
    event = AuditEvent.objects.filter(action="export").latest("pk")
    assert event.context["release"]["release"].startswith("token-")


def test_an_export_job_is_one_release_with_its_manifest_in_the_run(
    settings, tmp_path, researcher, cohort, eager_tasks, django_capture_on_commit_callbacks
):
    settings.REGISTRY_EXPORT_DIR = tmp_path
    client = APIClient()
    client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post("/api/v1/exports/jobs/", {"shape": "flat-csv"}, format="json")
    job = client.get(f"/api/v1/exports/jobs/{requested.json()['id']}/").json()
    assert job["status"] == "succeeded"
    manifest = job["counts"]["release"]
    assert manifest["release"] == f"job-{job['id']}" and manifest["suppressed"] == 1
    body = b"".join(client.get(job["file_url"]).streaming_content).decode()
    ids = {row["record_id"] for row in csv.DictReader(io.StringIO(body))}
    release = Release(researcher.pk, manifest["release"])
    assert set(registry_pseudonyms(release, ids)) == ids
    assert not ids & {patient.pseudonym for patient in cohort}


def test_a_release_pseudonym_is_the_hmac_of_the_registry_pseudonym():
    release = Release(7, "r-0123456789abcdef")
    registry = ["SITEA-AAAAA-00001", "SITEB-ZZZZZ-99999", "", "é" * 40]
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    expected = []
    for pseudonym in registry:
        digest = hmac.digest(release._key, pseudonym.encode(), "sha256")
        number = int.from_bytes(digest[:8], "big") >> 4
        code = "".join(alphabet[(number >> shift) & 31] for shift in range(55, -1, -5))
        expected.append(f"R-{code[:4]}-{code[4:8]}-{code[8:]}")
    assert release.pseudonyms(registry) == expected
    assert [release.pseudonym(pseudonym) for pseudonym in registry] == expected


def test_a_release_cannot_be_narrowed_by_update_times(researcher, curator, cohort):
    client = APIClient()
    client.force_authenticate(researcher)
    refused = client.get("/api/v1/exports/json/", {"changed_since": "2020-01-01T00:00:00Z"})
    assert refused.status_code == 400 and "no update times" in refused.json()["changed_since"][0]
    token = api_token_for(researcher)
    response = Client().post(
        "/redcap/api/",
        {
            "token": token,
            "content": "record",
            "format": "json",
            "dateRangeBegin": "2020-01-01 00:00:00",
        },
    )
    assert response.status_code == 400
    assert json.loads(response.content)["error"].startswith("dateRangeBegin:")
    assert not AuditEvent.objects.filter(action="export").exists()
    client.force_authenticate(curator)
    allowed = client.get("/api/v1/exports/json/", {"changed_since": "2020-01-01T00:00:00Z"})
    assert allowed.status_code == 200


def test_a_release_lists_its_records_by_its_own_pseudonyms_not_by_enrolment(researcher, cohort):
    first, second = (FlatExport(researcher, ExportSpec()) for _ in range(2))
    orders = [[row["record_id"] for row in _rows(export)] for export in (first, second)]
    assert all(order == sorted(order) for order in orders)
    # Rows in enrolment order would link two releases of the same patients by position.
    enrolment = list(first.released)
    by_first = {first.released[pk].pseudonym: pk for pk in first.released}
    by_second = {second.released[pk].pseudonym: pk for pk in second.released}
    assert [by_first[record] for record in orders[0]] != enrolment or [
        by_second[record] for record in orders[1]
    ] != enrolment
    records = [record.record_id for record in RecordExport(researcher, ExportSpec()).records()]
    assert records == sorted(records)


def test_only_screened_free_text_and_coded_answers_reach_researchers():
    schema = load_schema(
        {
            "form": "visit",
            "version": 1,
            "title": "Visit",
            "fields": [
                {
                    "name": "side",
                    "type": "radio",
                    "label": "Side",
                    "choices": [{"code": "l", "label": "Left"}, {"code": "r", "label": "Right"}],
                },
                {"name": "findings", "type": "notes", "label": "Findings"},
                {"name": "scanner", "type": "text", "label": "Scanner", "phi_screen": False},
                {"name": "report", "type": "file", "label": "Report"},
                {"name": "intro", "type": "descriptive", "label": "Read this first"},
            ],
        }
    )
    released = {f.name: releasable_to_researchers([f]) for f in schema.fields}
    assert released == {
        "side": True,
        "findings": True,
        "scanner": False,
        "report": False,
        "intro": False,
    }
    # A field is released only when every version of it may be: one unscreened version is enough
    # to hold it back.
    assert not releasable_to_researchers([schema.field("findings"), schema.field("scanner")])
    assert not releasable_to_researchers([schema.field("side"), schema.field("report")])


def test_every_release_pseudonym_maps_back_when_none_is_named():
    release = Release(7, "r-0123456789abcdef")
    patients = ["SITEA-00001-AAAAA", "SITEA-00002-BBBBB"]
    back = registry_pseudonyms(release, patients=patients)
    assert sorted(back.values()) == patients
    assert dict(zip(release.pseudonyms(patients), patients, strict=True)) == back


def test_release_ids_carry_sixteen_characters_of_randomness_or_of_the_token_hash():
    first, second = new_release_id(), new_release_id()
    assert re.fullmatch(r"r-[0-9a-f]{16}", first) and first != second
    assert token_release_id("f" * 64) == "token-" + "f" * 16
