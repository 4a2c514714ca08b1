"""Curators publish from a file uploaded in the admin: review the report and the changes, then
publish as the next version or cancel, through the rules of sync_forms."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.audit.models import AuditEvent
from registry.crfs.admin import _SESSION_KEY
from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.uploads import MAX_FORM_FILE_BYTES, MAX_UPLOAD_BYTES
from registry.formengine.dictionary import COLUMNS, write_dictionary
from registry.formengine.schema import load_schema
from tests.conftest import Client
from tests.factories import assessment_schema, publish_form

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/crfs/formversion/upload/"
REVIEW = "/admin/crfs/formversion/upload/review/"
DICTIONARIES = Path(__file__).resolve().parents[1] / "formengine" / "dictionaries"


def assessment_v2() -> dict:
    """Version 2: a rename, a new field, a choice dropped and a type changed."""
    schema = assessment_schema(version=2)
    fields = schema["fields"]
    fields[0] = {**fields[0], "name": "age_at_visit_months", "renamed_from": "age_months"}
    fields[2] = {
        **fields[2],
        "type": "dropdown",
        "choices": [c for c in fields[2]["choices"] if c["code"] != "4"],
    }
    fields.append(
        {
            "name": "side",
            "type": "radio",
            "label": "Side",
            "choices": [{"code": "l", "label": "Left"}, {"code": "r", "label": "Right"}],
        }
    )
    return schema


def as_dictionary(schema: dict) -> bytes:
    return write_dictionary([load_schema(schema)]).encode("utf-8")


def upload(client, name: str, content: bytes, repeatable: str = ""):
    return client.post(
        UPLOAD, {"repeatable": repeatable, "file": SimpleUploadedFile(name, content)}
    )


def digest_of(client) -> str:
    return client.session[_SESSION_KEY]["sha256"]


def publish_events() -> int:
    return AuditEvent.objects.filter(action="form_version.publish").count()


@pytest.fixture
def v1(db):
    return publish_form(assessment_schema())


@pytest.fixture
def signed_in(client, curator):
    client.force_login(curator)
    return client


# --- upload, review, publish ------------------------------------------------------------------


def test_an_uploaded_dictionary_is_reviewed_then_published_as_the_next_version(
    signed_in, curator, v1
):
    page = upload(signed_in, "assessment.csv", as_dictionary(assessment_v2()))
    assert page.status_code == 200
    text = page.content.decode()
    assert "assessment version 2" in text and "changes from version 1" in text
    assert "age_months → age_at_visit_months" in text
    assert "show them under age_at_visit_months" in text
    assert "radio → dropdown" in text and "4 (Grade 4)" in text
    assert "new submissions cannot choose it" in text
    assert "side" in text and "no answer for it" in text
    # The dictionary holds no title: the published one is kept, and the report says so.
    assert "title &#x27;Assessment&#x27; and repeatable as published" in text
    assert not FormVersion.objects.filter(number=2).exists()

    before = publish_events()
    done = signed_in.post(
        REVIEW, {"upload": digest_of(signed_in), "confirm": "yes", "action": "Publish"}
    )
    assert done.status_code == 302
    v2 = FormVersion.objects.get(form__name="assessment", number=2)
    assert v2.published_by == curator and v2.source.startswith("upload:assessment.csv@")
    assert v2.schema["title"] == "Assessment" and v2.schema["repeatable"] is True
    assert v2.schema["fields"][0]["name"] == "age_at_visit_months"
    event = AuditEvent.objects.get(action="form_version.publish", actor=curator)
    assert publish_events() == before + 1 and event.context["source"] == v2.source
    assert _SESSION_KEY not in signed_in.session


def test_an_uploaded_form_file_is_published_as_the_next_version(signed_in, curator, v1):
    data = assessment_v2()
    del data["version"]
    page = upload(signed_in, "assessment.yaml", yaml.safe_dump(data).encode())
    assert page.status_code == 200
    assert "it becomes version 2 of assessment" in page.content.decode()
    signed_in.post(REVIEW, {"upload": digest_of(signed_in), "confirm": "yes"})
    assert FormVersion.objects.get(number=2).published_by == curator


def test_a_new_form_from_a_dictionary_becomes_version_1_repeatable_if_asked(signed_in):
    text = (DICTIONARIES / "clinic_followup.csv").read_bytes()
    page = upload(signed_in, "clinic.csv", text, repeatable="scales")
    assert page.status_code == 200
    content = page.content.decode()
    assert "A new form" in content
    # What the importer changed, by row and column: an old validation name, a REDCap alias.
    assert "row 7, column &#x27;Text Validation Type OR Show Slider Number&#x27;" in content
    assert "&#x27;int&#x27; becomes &#x27;integer&#x27;" in content
    signed_in.post(REVIEW, {"upload": digest_of(signed_in), "confirm": "yes"})
    assert set(FormDefinition.objects.values_list("name", flat=True)) == {
        "demographics",
        "clinical_exam",
        "scales",
    }
    assert FormDefinition.objects.get(name="scales").repeatable
    assert publish_events() == 3


def test_the_review_page_can_be_opened_again_and_shows_the_same_changes(signed_in, v1):
    upload(signed_in, "assessment.csv", as_dictionary(assessment_v2()))
    again = signed_in.get(REVIEW)
    assert again.status_code == 200 and "age_months → age_at_visit_months" in again.content.decode()


# --- nothing changes unless confirmed ---------------------------------------------------------


def test_cancel_publishes_nothing_and_forgets_the_upload(signed_in, v1):
    upload(signed_in, "assessment.csv", as_dictionary(assessment_v2()))
    before = publish_events()
    response = signed_in.post(REVIEW, {"upload": digest_of(signed_in), "action": "cancel"})
    assert response.status_code == 302
    assert list(FormVersion.objects.values_list("number", flat=True)) == [1]
    assert publish_events() == before
    assert _SESSION_KEY not in signed_in.session
    assert signed_in.get(REVIEW).status_code == 302


def test_publishing_needs_the_box_ticked(signed_in, v1):
    upload(signed_in, "assessment.csv", as_dictionary(assessment_v2()))
    page = signed_in.post(REVIEW, {"upload": digest_of(signed_in)})
    assert "Tick the box" in page.content.decode()
    assert not FormVersion.objects.filter(number=2).exists()


def test_a_confirmation_for_another_upload_publishes_nothing(signed_in, v1):
    upload(signed_in, "assessment.csv", as_dictionary(assessment_v2()))
    shown = digest_of(signed_in)
    other = assessment_v2()
    other["fields"].append({"name": "extra", "type": "notes", "label": "Extra"})
    upload(signed_in, "other.csv", as_dictionary(other))
    signed_in.post(REVIEW, {"upload": shown, "confirm": "yes"})
    assert not FormVersion.objects.filter(number=2).exists()


def test_a_version_published_meanwhile_refuses_the_confirmation(signed_in, v1):
    upload(signed_in, "assessment.csv", as_dictionary(assessment_v2()))
    publish_form(assessment_schema(version=2, title="Published elsewhere"))
    assert "version 2 was published since you uploaded" in signed_in.get(REVIEW).content.decode()
    response = signed_in.post(
        REVIEW, {"upload": digest_of(signed_in), "confirm": "yes"}, follow=True
    )
    assert "since you uploaded the file: nothing was published" in response.content.decode()
    assert list(FormVersion.objects.values_list("number", flat=True)) == [1, 2]
    assert FormVersion.objects.get(number=2).schema["title"] == "Published elsewhere"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("assessment.csv", as_dictionary(assessment_schema())),
        ("assessment.yaml", yaml.safe_dump(assessment_schema()).encode()),
    ],
)
def test_an_unchanged_upload_has_nothing_to_publish(signed_in, v1, name, content):
    page = upload(signed_in, name, content)
    assert "Unchanged, nothing to publish: assessment v1" in page.content.decode()
    assert _SESSION_KEY not in signed_in.session and FormVersion.objects.count() == 1


# --- refusals ---------------------------------------------------------------------------------


def with_cell(row: int, column: str, value: str) -> bytes:
    text = (DICTIONARIES / "clinic_followup.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows[row - 1][COLUMNS.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_a_refused_dictionary_names_row_and_column_and_changes_nothing(signed_in):
    column = "Branching Logic (Show field only if...)"
    page = upload(signed_in, "clinic.csv", with_cell(4, column, "[no_such_field] = '1'"))
    assert page.status_code == 400
    content = page.content.decode()
    assert "row 4, column &#x27;Branching Logic (Show field only if...)&#x27;" in content
    assert "no_such_field" in content and 'value="Publish"' not in content
    assert (
        not FormDefinition.objects.exists()
        and not AuditEvent.objects.filter(action="form_version.publish").exists()
    )
    assert _SESSION_KEY not in signed_in.session


def test_a_form_file_for_an_old_version_is_refused(signed_in, v1):
    publish_form(assessment_v2())
    stale = assessment_schema(version=2, title="Edited from version 1")
    page = upload(signed_in, "assessment.yaml", yaml.safe_dump(stale).encode())
    assert page.status_code == 400
    assert "the next version of assessment is 3" in page.content.decode()
    assert FormVersion.objects.count() == 2


NESTED = ("form: assessment\nfields: " + "[" * 5000 + "]" * 5000 + "\n").encode()
TAGGED = b"form: !!python/object/apply:os.system ['touch /tmp/pwned']\nversion: 1\n"
ALIASES = (
    b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("huge.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "larger than"),
        ("huge.yaml", b"#" * (MAX_FORM_FILE_BYTES + 1), "may be at most"),
        ("nul.csv", b"Variable / Field Name,Form Name\nrecord_id,a\x00b\n", "NUL character"),
        ("excel.csv", "Variable / Field Name\ncaf\u00e9\n".encode("cp1252"), "Windows-1252"),
        ("nested.yaml", NESTED, "nests more than"),
        ("tagged.yaml", TAGGED, "YAML tags"),
        ("bomb.yaml", ALIASES, "anchors and aliases"),
        ("two.yaml", b"form: a\n---\nform: b\n", "one document"),
        ("broken.yaml", b"form: [unclosed\n", "not valid YAML"),
        ("list.yaml", b"- form: a\n", "holds one mapping"),
        ("odd.yaml", b"form: assessment\nversion: 1\ntitle: 2020-01-01\nfields: {1: 2}\n", "title"),
        ("program.exe", b"MZ", "upload a REDCap data dictionary"),
        ("empty.csv", b"", "empty"),
        ("garbage.csv", b"\xff\xfe\x00\x01", "not UTF-8"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
)
def test_a_hostile_upload_is_a_clear_error_and_changes_nothing(signed_in, name, content, expected):
    page = upload(signed_in, name, content)
    assert page.status_code == 400
    assert expected in page.content.decode()
    assert not FormVersion.objects.exists() and _SESSION_KEY not in signed_in.session


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["coordinator_a", "researcher"])
def test_coordinators_and_researchers_are_refused_every_step(client, request, user, v1):
    client.force_login(request.getfixturevalue(user))
    assert client.get(UPLOAD).status_code == 403
    assert upload(client, "assessment.csv", as_dictionary(assessment_v2())).status_code == 403
    assert client.get(REVIEW).status_code == 403
    assert client.post(REVIEW, {"confirm": "yes", "upload": "x"}).status_code == 403
    assert FormVersion.objects.count() == 1


@pytest.mark.parametrize("user", ["curator", "admin_user"])
def test_curators_and_administrators_may_publish(client, request, user, v1):
    person = request.getfixturevalue(user)
    client.force_login(person)
    assert client.get(UPLOAD).status_code == 200
    upload(client, "assessment.csv", as_dictionary(assessment_v2()))
    client.post(REVIEW, {"upload": digest_of(client), "confirm": "yes"})
    assert FormVersion.objects.get(number=2).published_by == person


def test_a_curator_without_the_second_step_cannot_upload(client, curator, v1):
    client.force_login(curator, verified=False)
    assert client.get(UPLOAD).status_code == 302
    response = upload(client, "assessment.csv", as_dictionary(assessment_v2()))
    assert response.status_code == 302
    assert _SESSION_KEY not in client.session and FormVersion.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, v1):
    response = upload(client, "assessment.csv", as_dictionary(assessment_v2()))
    assert response.status_code == 302 and "login" in response["Location"]
    assert FormVersion.objects.count() == 1


def test_the_upload_and_the_confirmation_still_need_the_csrf_token(curator, v1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    assert upload(client, "assessment.csv", as_dictionary(assessment_v2())).status_code == 403
    assert _SESSION_KEY not in client.session
    assert client.post(REVIEW, {"confirm": "yes"}).status_code == 403


def test_the_waiting_upload_is_kept_on_the_server_not_in_the_page(signed_in, v1):
    page = upload(signed_in, "assessment.csv", as_dictionary(assessment_v2())).content.decode()
    assert "Woods &amp; Teuber grade" not in page  # a label of the file, never sent back
    kept = signed_in.session[_SESSION_KEY]
    assert f'name="upload" value="{kept["sha256"]}"' in page


def test_the_review_lists_the_importers_own_report_by_row_and_column(signed_in):
    rows = [
        COLUMNS,
        ["record_id", "intake", "", "text", "Record ID"] + [""] * (len(COLUMNS) - 5),
        ["contact", "intake", "", "text", "Parent's e-mail", "", "", "email"]
        + [""] * (len(COLUMNS) - 8),
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    page = upload(signed_in, "intake.csv", out.getvalue().encode())
    assert page.status_code == 200
    text = page.content.decode().replace("&#x27;", "'")
    assert "row 3" in text and "contact" in text and "not collected" in text
