"""Hostile input to the REDCap API's import: a 400 naming the record and column, nothing written.

The import reads its body itself (it may be far larger than a page's), so the checks at the
door do not all see it: a NUL spelled "\\u0000" inside the JSON of `data` arrives as `%5Cu0000`.
Each probe is one value (or key) in the second record of a batch whose first record is good;
the whole batch is refused, as the import's contract says (all or nothing).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.test import Client

from registry.audit.models import AuditEvent
from registry.formengine.validation import MAX_NOTES_LENGTH
from registry.patients.models import Patient
from registry.rest.parsers import MAX_JSON_DEPTH
from registry.submissions.models import Submission

pytestmark = pytest.mark.django_db
URL = "/redcap/api/"
MB = 1024 * 1024
NOTE = "Brisk reflexes on the left, mild hypotonia of the right hand. "


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# (JSON fragment for the value of other_diagnoses, what the error must say)
JSON_VALUES = {
    "nested 100,000 deep": (deep(100_000), "nested"),
    "nested one level too deep": (deep(MAX_JSON_DEPTH), "nested"),
    "a list as a value": ('["a"]', "list"),
    "lone high surrogate": ('"left \\ud800 hand"', "surrogate"),
    "lone low surrogate": ('"\\udfff"', "surrogate"),
    "escaped NUL": ('"Hydro\\u0000cephalus"', "NUL"),
    "10 MB value": (json.dumps("x" * 10 * MB), "characters"),
    "20,000-character note": (json.dumps((NOTE * 400)[:20_000]), f"{MAX_NOTES_LENGTH:,}"),
    "NaN": ("NaN", "NaN"),
    "a number too large": ("1e400", "finite"),
}
JSON_KEYS = {
    "lone surrogate in a key": ('"other\\ud800"', "surrogate"),
    "escaped NUL in a key": ('"a\\u0000"', "NUL"),
}


def snapshot():
    return (
        Patient.objects.count(),
        Submission.objects.count(),
        AuditEvent.objects.count(),
        sorted(Submission.objects.values_list("pk", "row_version", "data")),
    )


def send(token: str, data: str, fmt: str = "json") -> tuple[int, str]:
    body = (
        f"token={token}&content=record&format={fmt}&overwriteBehavior=overwrite"
        "&returnFormat=json"
        f"&data={quote(data)}"
    )
    response = Client().post(URL, body, content_type="application/x-www-form-urlencoded")
    return response.status_code, response.content.decode()


def batch(patient, value: str, key: str | None = None) -> str:
    good = json.dumps(
        {
            "record_id": patient.pseudonym,
            "mm_age_months": "37",
            "redcap_repeat_instrument": "mirror_movements",
            "redcap_repeat_instance": 1,
        }
    )
    extra = f', {key}: "1"' if key else ""
    return f'[{good}, {{"record_id": "{patient.pseudonym}", "other_diagnoses": {value}{extra}}}]'


def assert_refused(status: int, text: str, words: str, before, *, where: str = "") -> None:
    assert status == 400, text[:500]
    assert "error" in json.loads(text)
    assert words.lower() in text.lower(), text[:500]
    assert where in text, text[:500]
    assert len(text) < 10_000, "the answer echoes the hostile value"
    assert snapshot() == before


@pytest.mark.parametrize(("value", "words"), JSON_VALUES.values(), ids=JSON_VALUES)
def test_a_hostile_json_value_refuses_the_batch_naming_record_and_column(
    token_a, patient_a, value, words
):
    before = snapshot()
    status, text = send(token_a, batch(patient_a, value))
    assert_refused(status, text, words, before, where="other_diagnoses")
    assert "2" in text  # the record's place in the batch


@pytest.mark.parametrize(("key", "words"), JSON_KEYS.values(), ids=JSON_KEYS)
def test_a_hostile_json_key_refuses_the_batch(token_a, patient_a, key, words):
    before = snapshot()
    status, text = send(token_a, batch(patient_a, '"Hydrocephalus"', key))
    assert_refused(status, text, words, before, where="Record 2")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (deep(100_000), "nested"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested"),
        ('[{"record_id": "A"', "JSON"),
    ],
    ids=["arrays nested 100,000 deep", "objects nested 100,000 deep", "truncated"],
)
def test_hostile_json_data_is_refused_whole(token_a, patient_a, data, words):
    before = snapshot()
    assert_refused(*send(token_a, data), words, before)


# (CSV value of other_diagnoses, what the error must say)
CSV_VALUES = {
    "10 MB value": ("x" * 10 * MB, "characters"),
    "20,000-character note": ((NOTE * 400)[:20_000], f"{MAX_NOTES_LENGTH:,}"),
    "NUL": ("Hydro\x00cephalus", "NUL"),
    "escaped NUL is only text in CSV, refused as a value": ("a\\u0000" * 4000, "characters"),
}


@pytest.mark.parametrize(("value", "words"), CSV_VALUES.values(), ids=CSV_VALUES)
def test_a_hostile_csv_value_refuses_the_batch(token_a, patient_a, value, words):
    before = snapshot()
    data = (
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,mm_age_months,"
        f"other_diagnoses\n{patient_a.pseudonym},mirror_movements,1,37,\n"
        f'{patient_a.pseudonym},,,,"{value}"\n'
    )
    status, text = send(token_a, data, "csv")
    assert_refused(status, text, words, before)


def test_a_note_at_the_limit_is_imported(token_a, patient_a):
    note = (NOTE * 400)[:MAX_NOTES_LENGTH].strip()
    status, text = send(token_a, batch(patient_a, json.dumps(note)))
    assert status == 200, text[:500]
    assert Submission.objects.filter(data__other_diagnoses=note).exists()


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    "<records><item><record_id>&b;</record_id></item></records>"
)
XML_BODIES = {
    "entities (a bomb)": (BOMB, "document type"),
    "an external entity": (
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<records><item><record_id>&x;</record_id></item></records>",
        "document type",
    ),
    "not XML": ("<records><item>", "cannot be read"),
    "another root": ("<rows><item/></rows>", "<records>"),
    "nested values": (
        "<records><item><record_id><b>1</b></record_id></item></records>",
        "never more elements",
    ),
    "an unknown record": (
        "<records><item><record_id>1</record_id></item></records>",
        "No such record",
    ),
}


@pytest.mark.parametrize("body, words", XML_BODIES.values(), ids=XML_BODIES)
def test_hostile_xml_imports_are_refused_plainly(token_a, patient_a, body, words):
    before = snapshot()
    status, text = send(token_a, body, "xml")
    assert_refused(status, text, words, before)


def test_an_xml_import_is_read_as_redcaps_xml(token_a, patient_a):
    status, text = send(
        token_a,
        "<records><item><record_id>"
        + patient_a.pseudonym
        + "</record_id><handedness><![CDATA[left]]></handedness></item>"
        "</records>",
        "xml",
    )
    assert status == 200, text
    assert (
        Submission.objects.get(patient=patient_a, form__name="enrollment").data["handedness"]
        == "left"
    )
