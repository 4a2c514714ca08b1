"""format=xml, type=eav, returnContent and filterLogic on the record ID, as REDCap has them."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from registry.submissions.models import Submission
from tests.exchange.registry_data import enrol, redcap_post, save
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db


def xml_items(text: str) -> list[dict[str, str]]:
    root = ET.fromstring(text)
    assert root.tag == "records"
    return [{child.tag: child.text or "" for child in item} for item in root]


def as_text(rows: list[dict]) -> list[dict[str, str]]:
    return [{key: str(value) for key, value in row.items()} for row in rows]


def test_metadata_as_xml_holds_what_json_holds(token_a, registry_forms):
    as_json = redcap_post(token_a, content="metadata", format="json").json()
    reply = redcap_post(token_a, content="metadata", format="xml")
    assert reply.status_code == 200 and reply.text.startswith('<?xml version="1.0"')
    assert xml_items(reply.text) == as_json


def test_records_as_xml_hold_what_json_holds(token_a, patient_a):
    as_json = redcap_post(token_a, content="record", format="json", type="flat").json()
    reply = redcap_post(token_a, content="record", format="xml", type="flat")
    assert reply.status_code == 200
    assert xml_items(reply.text) == as_text(as_json)
    assert len(as_json) == 3


def test_xml_keeps_markup_and_cdata_ends_in_values_as_text(coordinator_a, token_a, patient_a):
    notes = "Shunt revised ]]> twice <b>&amp; checked</b>"
    save(
        coordinator_a,
        patient_a,
        "enrollment",
        {
            **Submission.objects.get(patient=patient_a, form__name="enrollment").data,
            "other_diagnoses": notes,
        },
        instance=1,
    )
    reply = redcap_post(token_a, content="record", format="xml", forms="enrollment")
    (row,) = xml_items(reply.text)
    assert row["other_diagnoses"] == notes


def test_instruments_dags_and_project_as_xml(token_a, registry_forms):
    instruments = xml_items(redcap_post(token_a, content="instrument", format="xml").text)
    assert instruments[0] == {
        "instrument_name": "enrollment",
        "instrument_label": instruments[0]["instrument_label"],
    }
    assert (
        xml_items(redcap_post(token_a, content="dag", format="xml").text)[0]["unique_group_name"]
        == "sitea"
    )
    project = ET.fromstring(redcap_post(token_a, content="project", format="xml").text)
    assert project.tag == "project" and project.findtext("is_longitudinal") == "0"


def test_eav_export_has_one_item_per_value(token_a, patient_a):
    items = redcap_post(token_a, content="record", format="json", type="eav").json()
    mine = [
        (i["redcap_repeat_instrument"], i["redcap_repeat_instance"], i["field_name"], i["value"])
        for i in items
    ]
    assert ("", "", "record_id", patient_a.pseudonym) in mine
    assert ("", "", "sex", "female") in mine and ("", "", "handedness", "right") in mine
    assert ("", "", "enrollment_complete", "2") in mine
    # A ticked checkbox option is the field and the option's code; unticked ones are absent.
    assert ("mirror_movements", 1, "body_regions", "distal") in mine
    assert ("mirror_movements", 1, "body_regions", "proximal") not in mine
    assert ("mirror_movements", 2, "body_regions", "proximal") in mine
    # Forms never filled have no values, so no status either.
    assert not any(field == "surgery_complete" for *_, field, _ in mine)
    assert {i["record"] for i in items} == {patient_a.pseudonym}
    assert all(value != "" for *_, value in mine)


def test_eav_export_as_csv_and_xml(token_a, patient_a):
    as_json = redcap_post(token_a, content="record", format="json", type="eav").json()
    text = redcap_post(token_a, content="record", format="csv", type="eav").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "record",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "field_name",
        "value",
    ]
    assert rows == as_text(as_json)
    assert xml_items(
        redcap_post(token_a, content="record", format="xml", type="eav").text
    ) == as_text(as_json)


def test_eav_with_labels_shows_the_ticked_options_label(token_a, patient_a):
    items = redcap_post(
        token_a,
        content="record",
        format="json",
        type="eav",
        rawOrLabel="label",
        forms="mirror_movements",
    ).json()
    assert {
        "record": patient_a.pseudonym,
        "redcap_repeat_instrument": "mirror_movements",
        "redcap_repeat_instance": 1,
        "field_name": "body_regions",
        "value": "Fingers or hand (distal)",
    } in items


def test_eav_import_updates_values_and_ticks_options(token_a, patient_a):
    base = {
        "record": patient_a.pseudonym,
        "redcap_repeat_instrument": "mirror_movements",
        "redcap_repeat_instance": 1,
    }
    reply = redcap_post(
        token_a,
        content="record",
        format="json",
        type="eav",
        overwriteBehavior="normal",
        data=json.dumps(
            [
                {**base, "field_name": "mm_age_months", "value": "40"},
                {**base, "field_name": "body_regions", "value": "proximal"},
            ]
        ),
    )
    assert reply.status_code == 200 and reply.json() == {"count": 1}
    stored = Submission.objects.get(
        patient=patient_a, form__name="mirror_movements", instance=1
    ).data
    assert stored["mm_age_months"] == 40
    assert sorted(stored["body_regions"]) == ["distal", "proximal"]


@pytest.mark.parametrize(
    "item, named",
    [
        ({"record": "X", "value": "1"}, "field_name"),
        ({"record": "X", "field_name": "body_regions", "value": "elbow"}, "elbow"),
        ({"record": "X", "field_name": "handedness", "value": "1", "shoe": "9"}, "shoe"),
    ],
)
def test_bad_eav_rows_are_refused_by_name(token_a, patient_a, item, named):
    reply = redcap_post(
        token_a, content="record", format="json", type="eav", data=json.dumps([item])
    )
    assert reply.status_code == 400 and named in reply.json()["error"]


def test_an_unknown_type_is_named(token_a, patient_a):
    reply = redcap_post(token_a, content="record", format="json", type="wide")
    assert reply.status_code == 400 and '"type"' in reply.json()["error"]


def test_filter_logic_names_the_record_id_field(coordinator_a, site_a, token_a, patient_a):
    other = enrol(coordinator_a, site_a, "A-0002")
    save(coordinator_a, other, "mirror_movements", {"mm_age_months": 10, "mm_present": "0"})
    rows = redcap_post(
        token_a, content="record", format="json", filterLogic=f"[record_id] = '{other.pseudonym}'"
    ).json()
    assert {row["record_id"] for row in rows} == {other.pseudonym}
    assert len(rows) == 2  # the record's own row and its one instance
    rows = redcap_post(
        token_a, content="record", format="json", filterLogic=f"[record_id] <> '{other.pseudonym}'"
    ).json()
    assert {row["record_id"] for row in rows} == {patient_a.pseudonym}


def test_a_researcher_filters_on_the_record_id_of_their_release(
    researcher, coordinator_a, site_a, patient_a, settings
):
    settings.STATS_SUPPRESSION_THRESHOLD = 1  # no record held back by k-anonymity here
    enrol(coordinator_a, site_a, "A-0002")
    token = api_token_for(researcher)
    first = redcap_post(token, content="record", format="json").json()
    assert len({row["record_id"] for row in first}) == 2
    wanted = first[0]["record_id"]
    assert wanted != patient_a.pseudonym  # the release's own pseudonym
    rows = redcap_post(
        token, content="record", format="json", filterLogic=f"[record_id] = '{wanted}'"
    ).json()
    assert rows and {row["record_id"] for row in rows} == {wanted}


@pytest.mark.parametrize("returned", ["count", "ids"])
def test_import_answers_in_xml_when_asked(token_a, patient_a, returned):
    reply = redcap_post(
        token_a,
        content="record",
        format="json",
        returnFormat="xml",
        returnContent=returned,
        data=json.dumps([{"record_id": patient_a.pseudonym, "handedness": "left"}]),
    )
    assert reply.status_code == 200
    answer = ET.fromstring(reply.text)
    if returned == "count":
        assert (answer.tag, answer.text) == ("count", "1")
    else:
        assert answer.tag == "ids" and [i.text for i in answer] == [patient_a.pseudonym]


def test_import_answers_count_ids_and_auto_ids_as_redcap_does(token_a, patient_a):
    row = {"record_id": patient_a.pseudonym, "handedness": "left"}
    instance = {
        "record_id": patient_a.pseudonym,
        "mm_age_months": 37,
        "redcap_repeat_instrument": "mirror_movements",
        "redcap_repeat_instance": 1,
    }
    # Two rows of one record count once.
    assert redcap_post(
        token_a, content="record", format="json", data=json.dumps([row, instance])
    ).json() == {"count": 1}
    assert redcap_post(
        token_a, content="record", format="json", returnContent="ids", data=json.dumps([row])
    ).json() == [patient_a.pseudonym]
    new = {
        "record_id": "LOCAL-9",
        "sex": "male",
        "year_of_birth": 2011,
        "redcap_repeat_instrument": "mirror_movements",
        "redcap_repeat_instance": "new",
        "mm_age_months": 20,
        "mm_present": "0",
    }
    auto = redcap_post(
        token_a,
        content="record",
        format="json",
        returnContent="auto_ids",
        forceAutoNumber="true",
        data=json.dumps([new]),
    ).json()
    assert len(auto) == 1 and auto[0].endswith(",1") and "LOCAL-9" not in auto[0]
    csv_count = redcap_post(
        token_a, content="record", format="json", returnFormat="csv", data=json.dumps([row])
    )
    assert csv_count.text.splitlines() == ["count", "1"]
