"""content=metadata import: a curator's dictionary is published as new form versions, through
the same rules as sync_forms, and nothing changes when anything is refused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
import redcap
from redcap import RedcapError
from redcap import request as redcap_request

from registry.audit.models import AuditEvent
from registry.crfs.models import FormVersion
from registry.crfs.selectors import schema_of
from tests.exchange.registry_data import redcap_post
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db


def published() -> list[tuple[str, int, str]]:
    return list(
        FormVersion.objects.order_by("pk").values_list("form__name", "number", "content_hash")
    )


def metadata(token: str) -> list[dict[str, str]]:
    return redcap_post(token, content="metadata", format="json").json()


def push(token: str, rows: Any, **params: Any) -> Any:
    return redcap_post(
        token,
        content="metadata",
        format="json",
        returnFormat="json",
        data=json.dumps(rows),
        **params,
    )


def relabelled(rows: list[dict[str, str]], name: str, label: str) -> list[dict[str, str]]:
    return [{**row, "field_label": label} if row["field_name"] == name else row for row in rows]


@pytest.fixture
def curator_token(curator, registry_forms) -> str:
    return api_token_for(curator)


# --- through PyCap, against a live server ------------------------------------------------------


@pytest.fixture
def live_project(live_server, curator, registry_forms) -> Iterator[redcap.Project]:
    if live_server.thread.connections_override:
        # As in test_pycap.py: the server's threads share the test's SQLite connection.
        live_server.thread.httpd._close_connections = lambda: None
    yield redcap.Project(live_server.url + "/redcap/api/", api_token_for(curator))
    redcap_request._session.close()


@pytest.mark.django_db(transaction=True)
def test_pycap_import_metadata_publishes_a_new_version_and_answers_the_field_count(
    live_project, curator
):
    rows = live_project.export_metadata()
    changed = relabelled(rows, "mm_age_months", "Age at the assessment, in months")
    before = FormVersion.objects.filter(form__name="mirror_movements").count()

    assert live_project.import_metadata(changed) == len(rows)

    latest = FormVersion.objects.filter(form__name="mirror_movements").order_by("-number")[0]
    assert latest.number == before + 1 and latest.published_by == curator
    assert schema_of(latest).field("mm_age_months").label == "Age at the assessment, in months"
    # The other forms were sent unchanged and stay at their versions.
    assert (
        FormVersion.objects.exclude(form__name="mirror_movements").filter(number__gt=1).count() == 0
    )
    event = AuditEvent.objects.get(action="redcap.metadata_import")
    assert event.actor == curator
    assert event.context["published"] == [str(latest)] and event.context["fields"] == len(rows)
    assert AuditEvent.objects.filter(action="form_version.publish", actor=curator).count() == 1
    # The metadata now reads the new label.
    assert next(
        row for row in live_project.export_metadata() if row["field_name"] == "mm_age_months"
    )["field_label"] == ("Age at the assessment, in months")


@pytest.mark.django_db(transaction=True)
def test_pycap_import_metadata_as_csv_with_the_api_column_names(live_project):
    text = live_project.export_metadata(format_type="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert live_project.import_metadata(text, import_format="csv") == len(rows)
    # Its own export reads back as no change at all.
    assert FormVersion.objects.filter(number__gt=2).count() == 0


@pytest.mark.django_db(transaction=True)
def test_pycap_sees_a_refused_dictionary_as_an_error(live_project):
    rows = live_project.export_metadata()
    before = published()
    with pytest.raises(RedcapError) as refused:
        live_project.import_metadata(
            [
                {**row, "field_type": "banana"} if row["field_name"] == "handedness" else row
                for row in rows
            ]
        )
    assert "handedness" in str(refused.value) and "Field Type" in str(refused.value)
    assert published() == before


@pytest.mark.django_db(transaction=True)
def test_pycap_asking_for_xml_gets_the_count_and_sees_a_refusal_as_an_error(live_project):
    rows = live_project.export_metadata()
    # As REDCap answers a dictionary import: the number of fields, whatever the returnFormat.
    assert live_project.import_metadata(rows, return_format_type="xml") == str(len(rows))
    before = published()
    with pytest.raises(RedcapError) as refused:
        live_project.import_metadata(
            [
                {**row, "field_type": "banana"} if row["field_name"] == "handedness" else row
                for row in rows
            ],
            return_format_type="xml",
        )
    assert str(refused.value).startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<hash>')
    assert "handedness" in str(refused.value)
    assert published() == before


@pytest.mark.django_db(transaction=True)
def test_pycap_refuses_the_writes_the_registry_does_not_do(live_project):
    before = published()
    for write in (
        lambda: live_project.import_dags(
            [{"data_access_group_name": "New site", "unique_group_name": ""}]
        ),
        lambda: live_project.delete_dags(["sitea"]),
        lambda: live_project.switch_dag("sitea"),
        lambda: live_project.import_repeating_instruments_events(
            [{"form_name": "enrollment", "custom_form_label": ""}]
        ),
        lambda: live_project.delete_records(["X"]),
        lambda: live_project.import_users([{"username": "someone"}]),
    ):
        with pytest.raises(RedcapError) as refused:
            write()
        assert "Nothing was changed" in str(refused.value)
    assert published() == before


# --- the rules, through the endpoint ---------------------------------------------------------


def test_sending_the_exported_metadata_back_publishes_nothing(curator_token):
    rows = metadata(curator_token)
    before = published()
    reply = push(curator_token, rows)
    assert reply.status_code == 200 and reply.json() == len(rows)
    assert published() == before
    event = AuditEvent.objects.get(action="redcap.metadata_import")
    assert event.context["published"] == [] and len(event.context["unchanged"]) == 5


def test_coordinators_and_researchers_may_not_import_a_dictionary(
    token_a, researcher_token, curator_token
):
    rows = relabelled(metadata(curator_token), "handedness", "Hand")
    before = published()
    for token in (token_a, researcher_token):
        reply = push(token, rows)
        assert reply.status_code == 403 and "curators" in reply.json()["error"]
    assert published() == before


def test_an_administrator_may_import_a_dictionary(admin_user, curator_token):
    rows = relabelled(metadata(curator_token), "handedness", "Dominant hand")
    reply = push(api_token_for(admin_user), rows)
    assert reply.status_code == 200
    assert FormVersion.objects.filter(form__name="enrollment", number=2).exists()


def test_a_new_instrument_becomes_version_1_of_a_new_form(curator_token):
    rows = metadata(curator_token)
    extra = {key: "" for key in rows[0]}
    extra.update(
        field_name="walk_age_months",
        form_name="motor_milestones",
        field_type="text",
        field_label="Age at walking (months)",
        text_validation_type_or_show_slider_number="integer",
    )
    reply = push(curator_token, [*rows, extra])
    assert reply.status_code == 200 and reply.json() == len(rows) + 1
    version = FormVersion.objects.get(form__name="motor_milestones")
    assert version.number == 1 and version.form.repeatable is False
    assert "motor_milestones" in {row["form_name"] for row in metadata(curator_token)}


def test_one_bad_field_refuses_the_whole_dictionary_naming_it(curator_token):
    rows = relabelled(metadata(curator_token), "handedness", "Dominant hand")
    rows = [
        {**row, "text_validation_type_or_show_slider_number": "shoe_size"}
        if row["field_name"] == "mm_age_months"
        else row
        for row in rows
    ]
    before = published()
    reply = push(curator_token, rows)
    assert reply.status_code == 400
    error = reply.json()["error"]
    position = next(i for i, row in enumerate(rows, 1) if row["field_name"] == "mm_age_months")
    assert f"Field {position} (mm_age_months)" in error and "nothing was published" in error
    # The good change to enrolment was not published either.
    assert published() == before


def test_a_dictionary_that_leaves_out_a_published_form_is_refused(curator_token):
    rows = [row for row in metadata(curator_token) if row["form_name"] != "surgery"]
    before = published()
    reply = push(curator_token, rows)
    assert reply.status_code == 400 and "surgery" in reply.json()["error"]
    assert "never deletes a form" in reply.json()["error"]
    assert published() == before


def test_the_record_id_keeps_its_name(curator_token):
    rows = metadata(curator_token)
    rows[0] = {**rows[0], "field_name": "study_id"}
    reply = push(curator_token, rows)
    assert reply.status_code == 400
    assert "Field 1" in reply.json()["error"] and "record_id" in reply.json()["error"]


def test_sex_and_year_of_birth_cannot_be_redefined(curator_token):
    rows = [
        {**row, "select_choices_or_calculations": "m, Male | f, Female"}
        if row["field_name"] == "sex"
        else row
        for row in metadata(curator_token)
    ]
    before = published()
    reply = push(curator_token, rows)
    assert reply.status_code == 400
    assert "Field 2 (sex)" in reply.json()["error"] and "patient record" in reply.json()["error"]
    assert published() == before


def test_sex_and_year_of_birth_may_be_left_out(curator_token):
    rows = [
        row for row in metadata(curator_token) if row["field_name"] not in ("sex", "year_of_birth")
    ]
    before = published()
    assert push(curator_token, rows).status_code == 200
    assert published() == before


def test_a_column_that_would_clash_with_another_forms_is_refused(curator_token):
    rows = metadata(curator_token)
    clash = {key: "" for key in rows[0]}
    clash.update(
        field_name="enrollment_complete",
        form_name="motor_milestones",
        field_type="text",
        field_label="Clash",
    )
    before = published()
    reply = push(curator_token, [*rows, clash])
    assert reply.status_code == 400 and "enrollment_complete" in reply.json()["error"]
    assert published() == before


@pytest.mark.parametrize(
    "data, named",
    [
        ('[{"field_name": "record_id", "shoe": "x"}]', "shoe"),
        ('{"a": [1, 2]}', "a"),
        ("[1, 2]", "list of fields"),
        ("[]", "empty"),
        ("{", "JSON"),
        ('[{"field_name": "record_id", "field_label": "\\u0000"}]', "NUL"),
    ],
)
def test_hostile_dictionaries_are_a_4xx_naming_what_is_wrong(curator_token, data, named):
    before = published()
    reply = redcap_post(curator_token, content="metadata", format="json", data=data)
    assert 400 <= reply.status_code < 500
    assert named.lower() in reply.json()["error"].lower()
    assert published() == before


def test_a_csv_dictionary_with_redcaps_display_headers_is_read_too(curator_token):
    text = redcap_post(curator_token, content="metadata", format="csv").text
    rows = list(csv.reader(io.StringIO(text)))
    from registry.formengine.dictionary import COLUMNS

    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(COLUMNS), *rows[1:]])
    reply = redcap_post(
        curator_token, content="metadata", format="csv", returnFormat="csv", data=buffer.getvalue()
    )
    assert reply.status_code == 200 and reply.text == str(len(rows) - 1)


def test_the_metadata_exported_as_xml_imports_again_unchanged(curator_token):
    text = redcap_post(curator_token, content="metadata", format="xml").text
    before = published()
    reply = redcap_post(
        curator_token, content="metadata", format="xml", returnFormat="json", data=text
    )
    assert reply.status_code == 200 and reply.json() == len(metadata(curator_token))
    assert published() == before


def test_return_format_xml_answers_the_count_and_refusals_in_redcaps_xml_shapes(
    curator_token, token_a
):
    rows = metadata(curator_token)
    reply = redcap_post(
        curator_token, content="metadata", format="json", returnFormat="xml", data=json.dumps(rows)
    )
    assert reply.status_code == 200 and reply.text == str(len(rows))
    bad = [
        {**row, "field_type": "banana"} if row["field_name"] == "handedness" else row
        for row in rows
    ]
    refusals = [
        redcap_post(
            curator_token,
            content="metadata",
            format="json",
            returnFormat="xml",
            data=json.dumps(bad),
        ),
        redcap_post(
            curator_token, content="metadata", format="json", returnFormat="xml", data="[{not json"
        ),
        redcap_post(
            token_a, content="metadata", format="json", returnFormat="xml", data=json.dumps(rows)
        ),
    ]
    for refused in refusals:
        assert 400 <= refused.status_code < 500
        root = ElementTree.fromstring(refused.text)
        assert root.tag == "hash" and [child.tag for child in root] == ["error"]
        assert root.findtext("error")
    assert "handedness" in ElementTree.fromstring(refusals[0].text).findtext("error")
    assert refusals[2].status_code == 403
