"""Every call REDCap documents is either done or refused, never answered with something else.

The catalogue is PyCap's: each public method of `redcap.Project` is called with its payload
captured instead of sent, then the payload is posted to the registry. REDCap calls PyCap does
not make are added by hand. A call the registry does is answered 200; every other call gets
a 4xx in REDCap's error shape (in the format asked for), and changes nothing.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
import redcap

from registry.audit.models import AuditEvent
from registry.crfs.models import FormVersion
from registry.patients.models import Patient
from registry.people.models import Site
from registry.submissions.models import Submission
from tests.exchange.registry_data import Reply, redcap_post
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db

ROWS = [{"record_id": "X", "name": "n", "field": "f"}]
ARGUMENTS: dict[str, Any] = {
    "to_import": ROWS,
    "records": ["X"],
    "dag": "sitea",
    "dags": ["sitea"],
    "arms": [1],
    "events": ["event_1_arm_1"],
    "roles": ["r"],
    "users": ["u"],
    "doc_id": 1,
    "field": "record_id",
    "record": "X",
    "instrument": "enrollment",
    "name": "folder",
    "report_id": 1,
    "file_name": "a.txt",
    "file_object": None,
}
"""A value for each parameter a PyCap method requires (a new one fails the test below)."""

DONE = {
    ("version", "export"),
    ("project", "export"),
    ("metadata", "export"),
    ("instrument", "export"),
    ("exportFieldNames", "export"),
    ("repeatingFormsEvents", "export"),
    ("dag", "export"),
    ("record", "export"),
    ("record", "import"),
}
"""What a coordinator's token may do. `metadata` import is a curator's (tested elsewhere)."""

NOT_IN_PYCAP = [
    {"content": "project", "action": "import", "data": json.dumps(ROWS), "format": "json"},
    {"content": "project_settings", "action": "import", "data": json.dumps(ROWS), "format": "json"},
    {"content": "record", "action": "rename", "record": "X", "new_record_name": "Y"},
    {"content": "record", "action": "randomize", "record": "X", "randomization_id": "1"},
    {"content": "projectXml", "format": "xml"},
    {"content": "fileRepository", "action": "list", "format": "json", "returnFormat": "json"},
    {
        "content": "dag",
        "action": "import",
        "format": "csv",
        "returnFormat": "csv",
        "data": "data_access_group_name,unique_group_name\nNew,\n",
    },
    {
        "content": "metadata",
        "action": "import",
        "format": "xml",
        "returnFormat": "xml",
        "data": "<records/>",
    },
]


class _Captured(Exception):
    pass


def pycap_payloads() -> dict[str, dict[str, Any]]:
    """Method name -> the payload PyCap would POST for it."""
    project = redcap.Project("https://registry.invalid/redcap/api/", "A" * 32)
    # What PyCap would otherwise ask the server first.
    # The file methods check that their field is a file field; export_records sends every
    # field of the metadata, which must then be the registry's.
    project._metadata = [
        {"field_name": "record_id", "form_name": "enrollment", "field_type": "file"}
    ]
    project._is_longitudinal = False
    sent: list[dict[str, Any]] = []

    def capture(payload: dict[str, Any], return_type: str, file: Any = None) -> Any:
        sent.append(dict(payload))
        raise _Captured

    project._call_api = capture  # type: ignore[method-assign]
    payloads = {}
    # The class's functions: reading the instance's members would run its lazy properties.
    for name, _function in inspect.getmembers(redcap.Project, inspect.isfunction):
        if name.startswith("_"):
            continue
        method = getattr(project, name)
        required = [
            parameter
            for parameter in inspect.signature(method).parameters.values()
            if parameter.default is inspect.Parameter.empty
            and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
        ]
        missing = [parameter.name for parameter in required if parameter.name not in ARGUMENTS]
        assert not missing, f"PyCap's {name} needs a value for {missing} in ARGUMENTS"
        with pytest.raises(_Captured):
            method(*[ARGUMENTS[parameter.name] for parameter in required])
        payload = sent.pop()
        payload.pop("token")
        payloads[name] = payload
    return payloads


PAYLOADS = pycap_payloads()


def pair(payload: dict[str, Any]) -> tuple[str, str]:
    action = payload.get("action") or ("import" if "data" in payload else "export")
    return payload["content"], action


def assert_redcap_error(payload: dict[str, Any], reply: Reply) -> None:
    assert 400 <= reply.status_code < 500, (payload, reply.status_code, reply.text[:300])
    fmt = payload.get("returnFormat") or payload.get("format") or "json"
    if fmt == "csv":
        assert reply.text.startswith("error:"), reply.text[:300]
    elif fmt == "xml":
        assert "<error>" in reply.text, reply.text[:300]
    else:
        assert set(reply.json()) == {"error"} and reply.json()["error"], reply.text[:300]


def state() -> tuple[Any, ...]:
    """What a refused write must leave as it was."""
    return (
        list(FormVersion.objects.order_by("pk").values_list("pk", "content_hash")),
        list(Site.objects.order_by("pk").values_list("pk", "code", "name")),
        list(Patient.objects.order_by("pk").values_list("pk", "pseudonym", "site_id")),
        list(Submission.objects.order_by("pk").values_list("pk", "row_version", "data")),
        AuditEvent.objects.exclude(action__in=("export", "api.read")).count(),
    )


def test_the_catalogue_holds_every_write_pycap_makes():
    pairs = {pair(payload) for payload in PAYLOADS.values()}
    for expected in [
        ("metadata", "import"),
        ("dag", "import"),
        ("dag", "delete"),
        ("dag", "switch"),
        ("repeatingFormsEvents", "import"),
        ("record", "delete"),
        ("user", "import"),
        ("arm", "delete"),
        ("fileRepository", "createFolder"),
        ("file", "import"),
    ]:
        assert expected in pairs
    assert len(PAYLOADS) >= 50


@pytest.mark.parametrize("method", sorted(PAYLOADS))
def test_each_pycap_call_is_done_or_refused(method, token_a, patient_a, patient_b):
    payload = PAYLOADS[method]
    before = state()
    reply = redcap_post(token_a, **payload)
    if pair(payload) == ("record", "import"):
        # The placeholder rows are not the registry's: refused by name, nothing saved.
        assert_redcap_error(payload, reply)
        assert "name" in reply.text and state() == before
    elif pair(payload) in DONE:
        assert reply.status_code == 200, (method, reply.text[:300])
        assert state() == before
    else:
        assert_redcap_error(payload, reply)
        assert state() == before, method


@pytest.mark.parametrize("payload", NOT_IN_PYCAP, ids=lambda p: f"{p['content']}-{p.get('action')}")
def test_redcap_calls_pycap_does_not_make_are_refused(payload, token_a, patient_a):
    before = state()
    assert_redcap_error(payload, redcap_post(token_a, **payload))
    assert state() == before


@pytest.mark.parametrize(
    "method", sorted(name for name, payload in PAYLOADS.items() if pair(payload)[1] != "export")
)
def test_a_curator_is_refused_every_write_but_a_valid_dictionary(method, curator, patient_a):
    """A curator's token may publish a dictionary; these payloads hold no valid one."""
    payload = PAYLOADS[method]
    token = api_token_for(curator)
    before = state()
    assert_redcap_error(payload, redcap_post(token, **payload))
    assert state() == before


@pytest.mark.parametrize(
    "content", ["metadata", "dag", "repeatingFormsEvents", "project", "version", "instrument"]
)
def test_data_without_an_action_is_an_import_never_answered_with_an_export(
    content, token_a, registry_forms
):
    reply = redcap_post(token_a, content=content, format="json", data=json.dumps(ROWS))
    assert_redcap_error({"format": "json"}, reply)


def test_an_unknown_action_is_named(token_a, registry_forms):
    reply = redcap_post(token_a, content="metadata", action="frobnicate", format="json")
    assert reply.status_code == 400
    assert "action" in reply.json()["error"] and "frobnicate" in reply.json()["error"]


def test_an_import_without_data_is_refused(token_a, registry_forms):
    reply = redcap_post(token_a, content="record", action="import", format="json")
    assert reply.status_code == 400 and '"data"' in reply.json()["error"]


def test_a_content_that_is_only_refused_is_not_offered_as_an_export(token_a, registry_forms):
    reply = redcap_post(token_a, content="userDagMapping", format="json")
    assert reply.status_code == 400
    assert "does not export" in reply.json()["error"]
    assert "use import" not in reply.json()["error"]
