"""The REDCap protocol at /redcap/api/: tokens, errors, contents and record options."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qsl, quote_plus, urlencode

import pytest
from django.test import Client

from registry.audit.models import AuditEvent
from registry.submissions.models import Submission
from tests.exchange.registry_data import enrol, redcap_post, save
from tests.factories import UserFactory, api_token_for

pytestmark = pytest.mark.django_db
URL = "/redcap/api/"

post = redcap_post


def test_an_unknown_token_gets_403_with_a_json_error(registry_forms):
    response = post("A" * 32, content="metadata", format="json")
    assert response.status_code == 403
    assert "token" in response.json()["error"]


def test_a_token_of_the_wrong_shape_gets_403(registry_forms):
    response = post("short", content="version")
    assert response.status_code == 403 and "error" in response.json()


def test_a_get_request_is_refused_in_redcaps_shape():
    response = Client().get(URL)  # a GET, unlike every other call here
    assert response.status_code == 405 and "POST" in response.json()["error"]


def test_unsupported_content_gets_redcaps_error_not_a_crash(token_a, registry_forms):
    response = post(token_a, content="fileRepository", format="json")
    assert response.status_code == 400
    assert "fileRepository" in response.json()["error"]


def test_errors_follow_the_requested_format(token_a, registry_forms):
    response = post(token_a, content="formEventMapping", format="csv")
    assert response.status_code == 400
    assert response.text.startswith("error:")


def test_a_classic_project_has_no_form_event_mapping(token_a, registry_forms):
    response = post(token_a, content="formEventMapping", format="json")
    assert response.status_code == 400 and "classic" in response.json()["error"]


def test_an_error_asked_for_as_xml_comes_as_xml(token_a, registry_forms):
    response = post(token_a, content="metadata", format="xml", **{"fields[0]": "shoe_size"})
    assert response.status_code == 400
    assert "<error>" in response.text and "shoe_size" in response.text


def test_metadata_as_csv_uses_the_api_column_names(token_a, registry_forms):
    response = post(token_a, content="metadata", format="csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:2] == ["field_name", "form_name"]
    assert [row[0] for row in rows[1:4]] == ["record_id", "sex", "year_of_birth"]


def test_metadata_can_be_narrowed_and_names_unknown_fields(token_a, registry_forms):
    narrowed = post(token_a, content="metadata", format="json", **{"fields[0]": "handedness"})
    assert [row["field_name"] for row in narrowed.json()] == ["handedness"]
    unknown = post(token_a, content="metadata", format="json", **{"fields[0]": "shoe_size"})
    assert unknown.status_code == 400 and "shoe_size" in unknown.json()["error"]


def test_sites_are_data_access_groups_within_scope(token_a, site_a, site_b, registry_forms):
    groups = post(token_a, content="dag", format="json").json()
    assert groups == [
        {
            "data_access_group_name": "Hospital A",
            "unique_group_name": "sitea",
            "data_access_group_id": site_a.pk,
        }
    ]


def test_repeating_instruments_are_listed(token_a, registry_forms):
    rows = post(token_a, content="repeatingFormsEvents", format="json").json()
    assert {"form_name": "mirror_movements", "custom_form_label": ""} in rows
    assert "enrollment" not in {row["form_name"] for row in rows}


def test_unknown_export_fields_are_named(token_a, patient_a):
    response = post(
        token_a, content="record", format="json", type="flat", fields="record_id,shoe_size"
    )
    assert response.status_code == 400 and "shoe_size" in response.json()["error"]


def test_records_filter_by_record_id_and_by_logic(coordinator_a, site_a, token_a, patient_a):
    other = enrol(coordinator_a, site_a, "A-0002")
    save(coordinator_a, other, "mirror_movements", {"mm_age_months": 10, "mm_present": "0"})
    only_other = post(
        token_a, content="record", format="json", type="flat", **{"records[0]": other.pseudonym}
    ).json()
    assert {row["record_id"] for row in only_other} == {other.pseudonym}
    present = post(
        token_a,
        content="record",
        format="json",
        type="flat",
        filterLogic="[mm_present] = '1' and [sex] = 'female'",
        forms="mirror_movements",
    ).json()
    assert {(row["record_id"], row["redcap_repeat_instance"]) for row in present} == {
        (patient_a.pseudonym, 1),
        (patient_a.pseudonym, 2),
    }


def test_filter_logic_that_does_not_parse_is_a_clear_error(token_a, patient_a):
    response = post(token_a, content="record", format="json", filterLogic="[mm_present = 1")
    assert response.status_code == 400 and "filterLogic" in response.json()["error"]


def test_labels_and_label_headers(token_a, patient_a):
    response = post(
        token_a,
        content="record",
        format="csv",
        rawOrLabel="label",
        rawOrLabelHeaders="label",
        forms="mirror_movements",
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    header, first = rows[0], rows[1]
    assert "Body regions that mirror (choice=Fingers or hand (distal))" in header
    column = header.index("Body regions that mirror (choice=Fingers or hand (distal))")
    assert first[column] == "Checked"
    assert first[header.index("Complete?")] == "Complete"


def test_checkbox_labels_show_the_ticked_option(token_a, patient_a):
    rows = post(
        token_a,
        content="record",
        format="json",
        rawOrLabel="label",
        exportCheckboxLabel="true",
        forms="mirror_movements",
    ).json()
    assert rows[0]["body_regions___distal"] == "Fingers or hand (distal)"
    assert rows[0]["body_regions___proximal"] == ""


def test_data_access_group_column_only_for_people_who_see_several_sites(
    curator, token_a, patient_a, patient_b
):
    mine = post(token_a, content="record", format="json", exportDataAccessGroups="true").json()
    assert "redcap_data_access_group" not in mine[0]
    theirs = post(
        api_token_for(curator), content="record", format="json", exportDataAccessGroups="true"
    ).json()
    assert {row["redcap_data_access_group"] for row in theirs} == {"sitea", "siteb"}


def test_every_record_export_is_audited(coordinator_a, token_a, patient_a):
    post(token_a, content="record", format="json", forms="enrollment")
    event = AuditEvent.objects.get(action="export")
    assert event.actor == coordinator_a
    assert event.context["via"] == "redcap" and event.context["forms"] == ["enrollment"]


def test_a_locked_submission_refuses_import(token_a, patient_a):
    Submission.objects.filter(patient=patient_a, instance=1, form__name="mirror_movements").update(
        locked=True
    )
    response = post(
        token_a,
        content="record",
        format="json",
        data=json.dumps(
            [
                {
                    "record_id": patient_a.pseudonym,
                    "redcap_repeat_instrument": "mirror_movements",
                    "redcap_repeat_instance": 1,
                    "mm_age_months": 39,
                }
            ]
        ),
    )
    assert response.status_code == 400
    assert "locked" in response.json()["error"]
    assert (
        Submission.objects.get(patient=patient_a, instance=1, form__name="mirror_movements").data[
            "mm_age_months"
        ]
        == 36
    )


def test_researchers_cannot_import(researcher_token, patient_a):
    response = post(
        researcher_token,
        content="record",
        format="json",
        data=json.dumps([{"record_id": patient_a.pseudonym, "handedness": "left"}]),
    )
    assert response.status_code == 403 and "coordinators" in response.json()["error"]


def test_import_as_csv_answers_ids_as_csv(token_a, patient_a):
    data = f"record_id,handedness\n{patient_a.pseudonym},left\n"
    response = post(
        token_a,
        content="record",
        format="csv",
        data=data,
        returnContent="ids",
        returnFormat="csv",
        overwriteBehavior="overwrite",
    )
    assert response.status_code == 200
    assert response.text.splitlines() == ["id", patient_a.pseudonym]


def test_unknown_import_columns_are_named(token_a, patient_a):
    response = post(
        token_a,
        content="record",
        format="json",
        data=json.dumps([{"record_id": patient_a.pseudonym, "shoe_size": 42}]),
    )
    assert response.status_code == 400 and "shoe_size" in response.json()["error"]


def test_a_coordinator_of_several_sites_names_the_group_when_auto_numbering(
    site_a, site_b, registry_forms
):
    both = UserFactory(role="coordinator", sites=[site_a, site_b])
    token = api_token_for(both)
    row = {
        "record_id": "H-1",
        "sex": "female",
        "year_of_birth": 2019,
        "redcap_repeat_instrument": "mirror_movements",
        "redcap_repeat_instance": "new",
        "mm_age_months": 20,
        "mm_present": "0",
    }
    unnamed = post(
        token, content="record", format="json", forceAutoNumber="true", data=json.dumps([row])
    )
    assert unnamed.status_code == 400 and "redcap_data_access_group" in unnamed.json()["error"]
    named = post(
        token,
        content="record",
        format="json",
        forceAutoNumber="true",
        returnContent="auto_ids",
        data=json.dumps([{**row, "redcap_data_access_group": "siteb"}]),
    )
    assert named.status_code == 200
    pseudonym = named.json()[0].split(",")[0]
    assert pseudonym.startswith("SITEB-")


def test_a_nul_character_is_refused_not_a_crash(token_a, registry_forms):
    response = post(token_a, content="record", format="json", **{"records[0]": "A\x00B"})
    assert response.status_code == 400 and "NUL" in response.json()["error"]


def test_an_import_larger_than_djangos_form_limit_is_read(token_a, registry_forms, settings):
    rows = [
        {
            "record_id": f"H-{number}",
            "sex": "female",
            "year_of_birth": 2019,
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": "new",
            "mm_age_months": 20,
            "mm_present": "0",
        }
        for number in range(300)
    ]
    # Padding JSON accepts, so that the body passes the limit with few rows.
    data = json.dumps(rows) + " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = urlencode(
        {
            "token": token_a,
            "content": "record",
            "format": "json",
            "forceAutoNumber": "true",
            "data": data,
        }
    )
    response = Client().post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json() == {"count": 300}
    assert Submission.objects.filter(form__name="mirror_movements").count() == 300


@pytest.mark.parametrize(
    "body",
    [
        "",
        "&",
        "a=1&&b=",
        "flag&x=1",
        "a=b=c",
        "name+with+plus=va+lue%2B",
        "data=" + quote_plus(json.dumps([{"record_id": "Ünïcödé ✓", "notes": 'a "b" \\ c\n%41'}])),
        "raw=ünï%C3%A9",
        "back=a\\b%5Cc\\x41",
        "lower=%c3%a9%7b",
        "bad=%zz%41%",
        "half=%4%41",
        "bytes=%FF%C3",
        "twice=%2541",
        "nul=A%00B",
    ],
    ids=lambda body: body[:20],
)
def test_form_bodies_are_read_as_parse_qsl_reads_them(body):
    from registry.exchange.redcap import _parse_form

    assert _parse_form(body) == parse_qsl(body, keep_blank_values=True)


def test_an_import_reads_percent_encoded_json_with_every_kind_of_character(token_a, patient_a):
    notes = 'Quotes " and \\ backslash, 100% sure, a+b, ünïcödé ✓, {"json": [1]} & more'
    body = urlencode(
        {
            "token": token_a,
            "content": "record",
            "format": "json",
            "data": json.dumps([{"record_id": patient_a.pseudonym, "other_diagnoses": notes}]),
        }
    )
    response = Client().post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    stored = Submission.objects.get(patient=patient_a, form__name="enrollment")
    assert stored.data["other_diagnoses"] == notes
