"""Hostile input to the REST API's write doors: a clear 4xx naming the field, nothing written.

Each probe is a JSON fragment put where a value (or a key) goes in an otherwise valid request,
sent to every door that writes: creating, updating and bulk-creating submissions, and enrolling
a patient. Run on SQLite and on PostgreSQL, which is where NUL characters and lone surrogates
would have failed at the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from registry.audit.models import AuditEvent
from registry.formengine.validation import MAX_NOTES_LENGTH, MAX_TEXT_LENGTH
from registry.patients.models import Patient
from registry.rest.parsers import MAX_JSON_DEPTH
from registry.submissions.models import Submission
from tests.exchange.registry_data import MM_V2

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
NOTE = "Brisk reflexes on the left, mild hypotonia of the right hand. "


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@dataclass(frozen=True)
class Probe:
    value: str | None = None
    """A JSON fragment sent as the value of the door's text field."""
    key: str | None = None
    """A JSON fragment sent as an extra key beside the door's fields."""
    status: int = 400
    words: str = ""
    """What the answer must say, besides naming the field."""


VALUE_PROBES = {
    "nested 100,000 deep": Probe(value=deep(100_000), words="nested"),
    "nested one level too deep": Probe(value=deep(MAX_JSON_DEPTH), words="nested"),
    "lone high surrogate": Probe(value='"left \\ud800 hand"', words="surrogate"),
    "lone low surrogate": Probe(value='"\\udfff"', words="surrogate"),
    "surrogates in the wrong order": Probe(value='"\\udc00\\ud800"', words="surrogate"),
    "escaped NUL": Probe(value='"left\\u0000hand"', words="NUL"),
    "10 MB value": Probe(value=json.dumps("x" * 10 * MB), words="characters"),
    "a value just over the limit for any text": Probe(
        value=json.dumps("y" * 100_001), words="characters"
    ),
    "object as a value": Probe(value='{"a": {"b": "c"}}'),
    "NaN": Probe(value="NaN"),
    "Infinity": Probe(value="-Infinity"),
    "a number too large": Probe(value="1e400"),
    "an integer of 5,000 digits": Probe(value="9" * 5000),
}
KEY_PROBES = {
    "lone surrogate in a key": Probe(key='"field\\ud800"', words="surrogate"),
    "escaped NUL in a key": Probe(key='"a\\u0000"', words="NUL"),
    "10 MB key": Probe(key=json.dumps("k" * 10 * MB), words="characters"),
}
BODY_PROBES = {
    "nested 100,000 deep": (deep(100_000).encode(), 400, "nested"),
    "objects nested 100,000 deep": (
        ('{"a":' * 100_000 + "1" + "}" * 100_000).encode(),
        400,
        "nested",
    ),
    "not UTF-8": (b'{"site": "\xff\xfe"}', 400, "UTF-8"),
    "truncated": (b'{"site": "A', 400, "JSON"),
    "over the request limit": (b'{"a": "' + b"z" * (20 * MB) + b'"}', 413, "MB"),
}


@dataclass
class Door:
    """A write door: how to send a request with a probe in it, and the field it must name."""

    name: str
    field: str

    def body(self, patient: Patient, value: str, key: str | None) -> str:
        extra = f', {key}: "1"' if key else ""
        if self.name == "enrol":
            return (
                f'{{"site": "{patient.site.code}", "sex": "female", "year_of_birth": 2015, '
                f'"local_id": {value}{extra}}}'
            )
        data = json.dumps({**MM_V2})[:-1] + f', "{self.field}": {value}{extra}}}'
        if self.name == "create":
            return (
                f'{{"patient": "{patient.pseudonym}", "form": "mirror_movements", "data": {data}}}'
            )
        if self.name == "bulk":
            good = json.dumps(
                {"patient": patient.pseudonym, "form": "mirror_movements", "data": MM_V2}
            )
            return (
                f'[{good}, {{"patient": "{patient.pseudonym}", '
                f'"form": "mirror_movements", "data": {data}}}]'
            )
        return f'{{"data": {data}}}'

    def send(self, client: APIClient, submission: Submission, body: bytes | str):
        if self.name == "enrol":
            return client.post("/api/v1/patients/", body, content_type="application/json")
        if self.name == "create":
            return client.post("/api/v1/submissions/", body, content_type="application/json")
        if self.name == "bulk":
            return client.post("/api/v1/submissions/bulk/", body, content_type="application/json")
        send = client.put if self.name == "put" else client.patch
        return send(
            f"/api/v1/submissions/{submission.pk}/",
            body,
            content_type="application/json",
            HTTP_IF_MATCH=f'"{submission.row_version}"',
        )


DOORS = [
    Door("create", "neuro_other_findings"),
    Door("put", "neuro_other_findings"),
    Door("patch", "neuro_other_findings"),
    Door("bulk", "neuro_other_findings"),
    Door("enrol", "local_id"),
]


@pytest.fixture
def client_a(client_for, coordinator_a) -> APIClient:
    return client_for(coordinator_a)


@pytest.fixture
def existing(patient_a) -> Submission:
    """The v2 assessment that updates change."""
    return Submission.objects.get(patient=patient_a, form_version__number=2)


def snapshot() -> tuple[int, int, int, list[tuple[int, int, dict]]]:
    return (
        Patient.objects.count(),
        Submission.objects.count(),
        AuditEvent.objects.count(),
        sorted(Submission.objects.values_list("pk", "row_version", "data")),
    )


def assert_refused(response, status: int, field: str | None, words: str, before) -> None:
    text = response.content.decode()
    assert response.status_code == status, text[:500]
    assert response["Content-Type"] == "application/json"
    if field:
        assert field in text, text[:500]
    assert words.lower() in text.lower(), text[:500]
    assert len(text) < 10_000, "the answer echoes the hostile value"
    assert snapshot() == before


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.name)
@pytest.mark.parametrize(
    "probe", [*VALUE_PROBES.values(), *KEY_PROBES.values()], ids=[*VALUE_PROBES, *KEY_PROBES]
)
def test_a_hostile_value_or_key_is_a_400_naming_the_field_and_nothing_is_written(
    client_a, existing, door, probe
):
    before = snapshot()
    value = probe.value if probe.value is not None else '"A-0099"'
    response = door.send(client_a, existing, door.body(existing.patient, value, probe.key))
    # A hostile key is named by its place (data, or the request), as the key cannot be shown.
    field = door.field if probe.key is None else None
    assert_refused(response, probe.status, field, probe.words, before)


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.name)
@pytest.mark.parametrize(("body", "status", "words"), BODY_PROBES.values(), ids=BODY_PROBES)
def test_a_hostile_body_is_refused_whole_and_nothing_is_written(
    client_a, existing, door, body, status, words
):
    before = snapshot()
    assert_refused(door.send(client_a, existing, body), status, None, words, before)


@pytest.mark.parametrize("door", DOORS[:4], ids=lambda door: door.name)
def test_a_note_over_the_limit_is_a_400_naming_the_field(client_a, existing, door):
    before = snapshot()
    note = json.dumps((NOTE * 400)[:20_000])
    response = door.send(client_a, existing, door.body(existing.patient, note, None))
    assert_refused(response, 400, "neuro_other_findings", f"{MAX_NOTES_LENGTH:,}", before)


@pytest.mark.parametrize("door", DOORS[:4], ids=lambda door: door.name)
def test_a_note_at_the_limit_is_saved(client_a, existing, door):
    note = (NOTE * 400)[:MAX_NOTES_LENGTH].strip()
    response = door.send(client_a, existing, door.body(existing.patient, json.dumps(note), None))
    assert response.status_code in (200, 201), response.content.decode()[:500]
    assert Submission.objects.filter(data__neuro_other_findings=note).exists()


def test_a_text_field_over_its_limit_is_a_400_naming_it(client_a, existing):
    before = snapshot()
    body = {"data": {"wt_grade_left_task": "3", "mm_age_months": "x" * (MAX_TEXT_LENGTH + 1)}}
    response = client_a.patch(
        f"/api/v1/submissions/{existing.pk}/",
        body,
        format="json",
        HTTP_IF_MATCH=f'"{existing.row_version}"',
    )
    assert_refused(response, 400, "mm_age_months", f"{MAX_TEXT_LENGTH:,}", before)


def test_json_nested_to_the_limit_is_read(client_a, existing):
    # One level less than the limit is an ordinary (wrong) value, refused by the form engine.
    value = deep(MAX_JSON_DEPTH - 3)
    response = DOORS[0].send(client_a, existing, DOORS[0].body(existing.patient, value, None))
    assert response.status_code == 400, response.content.decode()
    assert "must be text" in response.json()["neuro_other_findings"][0], response.json()


def test_surrogate_pairs_are_ordinary_text(client_a, existing):
    response = DOORS[2].send(
        client_a, existing, DOORS[2].body(existing.patient, '"smiles \\ud83d\\ude00"', None)
    )
    assert response.status_code == 200, response.content.decode()
    existing.refresh_from_db()
    assert existing.data["neuro_other_findings"] == "smiles \U0001f600"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('"\\ud800"', "surrogate"),
        ('"a\\u0000"', "NUL"),
        (deep(100_000), "nested"),
        (json.dumps("n" * 10 * MB), "characters"),
    ],
    ids=["lone surrogate", "escaped NUL", "nested 100,000 deep", "10 MB value"],
)
def test_every_other_write_reads_json_the_same_way(coordinator_a, value, words):
    # Creating a token: a write that is not a submission, refused by the same parser.
    client = APIClient()
    client.force_login(coordinator_a)
    before = snapshot()
    response = client.post(
        "/api/v1/tokens/", f'{{"name": {value}}}', content_type="application/json"
    )
    assert_refused(response, 400, "name", words, before)
