"""@MAXCHOICE: a choice closes once enough records of the registry have saved it."""

import re

import pytest
from django.core.exceptions import ValidationError

from registry.crfs.selectors import schema_of
from registry.submissions.models import Submission
from registry.submissions.selectors import exhausted_choices
from registry.submissions.services import (
    BulkItem,
    BulkSaveRefused,
    do_save_submission,
    do_save_submissions_bulk,
)
from registry.web import data_entry
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def limited():
    raw = assessment_schema()
    raw["fields"] += [
        {
            "name": "arm",
            "type": "radio",
            "label": "Study arm",
            "choices": [{"code": "a", "label": "Arm A"}, {"code": "b", "label": "Arm B"}],
            "annotation": "@MAXCHOICE=a(2) team note",
        },
        {
            "name": "kits",
            "type": "checkbox",
            "label": "Kits",
            "choices": [{"code": "1", "label": "Kit 1"}, {"code": "2", "label": "Kit 2"}],
            "annotation": "@MAXCHOICE=2(1)",
        },
    ]
    return publish_form(raw)


@pytest.fixture
def patients(site_a):
    return [PatientFactory(site=site_a, pseudonym=f"SITEA-0000{n}") for n in range(4)]


def save(user, patient, version, **answers):
    return do_save_submission(
        user, patient, version, {"age_months": "3", "mm_present": "0", **answers}
    )


def test_a_choice_closes_when_its_limit_of_records_have_saved_it(coordinator_a, patients, limited):
    save(coordinator_a, patients[0], limited, arm="a")
    save(coordinator_a, patients[1], limited, arm="a")
    with pytest.raises(ValidationError) as refused:
        save(coordinator_a, patients[2], limited, arm="a")
    assert refused.value.message_dict == {
        "arm": [
            "Study arm: 'Arm A' (a) is no longer available: it is limited to 2 records, and 2 have "
            "chosen it. Choose another answer."
        ]
    }
    assert Submission.objects.count() == 2
    save(coordinator_a, patients[2], limited, arm="b")


def test_a_record_that_holds_the_choice_keeps_it(coordinator_a, patients, limited):
    first = save(coordinator_a, patients[0], limited, arm="a", kits=["2"])
    save(coordinator_a, patients[1], limited, arm="a")
    do_save_submission(
        coordinator_a,
        patients[0],
        limited,
        {"age_months": "4", "mm_present": "0", "arm": "a", "kits": ["1", "2"]},
        instance=first.submission.instance,
        expected_row_version=first.submission.row_version,
    )
    with pytest.raises(ValidationError) as refused:
        save(coordinator_a, patients[2], limited, kits=["1", "2"])
    assert "'Kit 2' (2) is no longer available" in refused.value.message_dict["kits"][0]


def test_a_batch_counts_its_own_earlier_rows(coordinator_a, patients, limited):
    items = [
        BulkItem(patient, limited, {"age_months": "3", "mm_present": "0", "arm": "a"})
        for patient in patients[:3]
    ]
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(coordinator_a, items)
    assert list(refused.value.errors) == [2]
    assert "no longer available" in refused.value.errors[2]["arm"][0]
    assert not Submission.objects.exists()
    do_save_submissions_bulk(coordinator_a, items[:2])
    assert Submission.objects.count() == 2


def test_the_page_shows_exhausted_choices_disabled(coordinator_a, patients, limited):
    save(coordinator_a, patients[0], limited, kits=["2"])
    schema = schema_of(limited)
    closed = exhausted_choices(coordinator_a, patients[1], limited.form, schema)
    assert closed == {"kits": frozenset({"2"})}
    assert exhausted_choices(coordinator_a, patients[0], limited.form, schema) == {}
    form = data_entry.submission_form(schema, exhausted=closed)
    html = str(form["kits"])
    assert 'value="2"' in html and html.count("disabled") == 1


def test_a_bad_maxchoice_is_refused_naming_the_field():
    from registry.formengine.schema import SchemaError, load_schema

    raw = assessment_schema()
    raw["fields"][1]["annotation"] = "@MAXCHOICE=7(2)"
    with pytest.raises(SchemaError) as refused:
        load_schema(raw)
    assert "@MAXCHOICE names 7, which is not a code" in str(refused.value)


def test_the_entry_page_disables_a_full_choice_and_a_post_of_it_saves_nothing(
    client, coordinator_a, patients, limited
):
    save(coordinator_a, patients[0], limited, arm="a")
    save(coordinator_a, patients[1], limited, arm="a")
    client.force_login(coordinator_a)
    address = f"/patients/{patients[2].pseudonym}/assessment/new/"
    page = client.get(address).content.decode()
    arm_a = re.search(r'<input[^>]*name="arm" value="a"[^>]*>', page)[0]
    arm_b = re.search(r'<input[^>]*name="arm" value="b"[^>]*>', page)[0]
    assert "disabled" in arm_a and 'data-exhausted="1"' in arm_a and "disabled" not in arm_b
    response = client.post(
        address, {"age_months": "3", "mm_present": "0", "arm": "a", "_status": "incomplete"}
    )
    assert "&#x27;Arm A&#x27; (a) is no longer available" in response.content.decode()
    assert Submission.objects.count() == 2


def test_a_batch_counts_rows_on_another_version_of_the_form(coordinator_a, patients, limited):
    raw = assessment_schema(version=2)
    raw["fields"] += [
        {
            "name": "arm",
            "type": "radio",
            "label": "Study arm",
            "choices": [{"code": "a", "label": "Arm A"}, {"code": "b", "label": "Arm B"}],
            "annotation": "@MAXCHOICE=a(2)",
        },
    ]
    v2 = publish_form(raw)
    answers = {"age_months": "3", "mm_present": "0", "arm": "a"}
    items = [
        BulkItem(patients[0], limited, answers),
        BulkItem(patients[1], v2, answers),
        BulkItem(patients[2], v2, answers),
    ]
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(coordinator_a, items)
    assert list(refused.value.errors) == [2]


def test_a_coordinator_meets_the_limit_that_another_sites_records_filled(
    client, coordinator_a, coordinator_b, site_b, patients, limited
):
    save(coordinator_a, patients[0], limited, arm="a")
    save(coordinator_a, patients[1], limited, arm="a")
    theirs = PatientFactory(site=site_b, pseudonym="SITEB-00001")
    client.force_login(coordinator_b)
    # A request runs in coordinator B's scope, which cannot see site A's records; the count
    # is the registry's all the same.
    response = client.post(
        f"/patients/{theirs.pseudonym}/assessment/new/",
        {"age_months": "3", "mm_present": "0", "arm": "a", "_status": "incomplete"},
    )
    assert "&#x27;Arm A&#x27; (a) is no longer available" in response.content.decode()
    assert not Submission.objects.filter(patient=theirs).exists()
