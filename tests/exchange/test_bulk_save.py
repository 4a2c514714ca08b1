"""do_save_submissions_bulk: the rules of every save (do_save_submission is a batch of one),
for a whole batch at once."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry import copy_insert
from registry.audit.models import AuditEvent
from registry.submissions.models import Submission
from registry.submissions.services import (
    BulkItem,
    BulkSaveRefused,
    StaleSubmission,
    SubmissionLocked,
    do_save_submission,
    do_save_submissions_bulk,
)
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db

GOOD = {"age_months": "36", "mm_present": "1", "wt_grade": "2"}


@pytest.fixture
def v1():
    return publish_form(assessment_schema())


@pytest.fixture
def patients(site_a):
    return [PatientFactory(site=site_a) for _ in range(3)]


def test_a_batch_is_saved_typed_and_audited_like_single_saves(coordinator_a, patients, v1):
    outcomes = do_save_submissions_bulk(
        coordinator_a, [BulkItem(p, v1, GOOD, status="complete") for p in patients]
    )
    assert all(outcome.created for outcome in outcomes)
    assert [s.data for s in Submission.objects.order_by("pk")] == [
        {"age_months": 36, "mm_present": "1", "wt_grade": "2"}
    ] * 3
    events = AuditEvent.objects.filter(action="submission.create").order_by("pk")
    assert [e.object_id for e in events] == [str(o.submission.pk) for o in outcomes]
    assert events[0].changes["age_months"] == [None, 36]
    assert events[0].context["version"] == 1 and events[0].site_id == patients[0].site_id


def test_one_invalid_item_saves_nothing_and_names_it(coordinator_a, patients, v1):
    items = [
        BulkItem(patients[0], v1, GOOD),
        BulkItem(patients[1], v1, {**GOOD, "age_months": "three"}),
    ]
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(coordinator_a, items)
    assert list(refused.value.errors) == [1]
    assert "age_months" in refused.value.errors[1]
    assert not Submission.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="submission").exists()


def test_updates_check_the_row_version_and_the_lock(coordinator_a, patients, v1):
    first = do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1).submission
    second = do_save_submission(coordinator_a, patients[1], v1, GOOD, instance=1).submission
    Submission.objects.filter(pk=second.pk).update(locked=True)
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(
                    patients[0], v1, {**GOOD, "wt_grade": "3"}, instance=1, expected_row_version=7
                ),
                BulkItem(patients[1], v1, {**GOOD, "wt_grade": "3"}, instance=1),
            ],
        )
    assert "changed by someone else" in refused.value.errors[0]["__all__"][0]
    assert "locked" in refused.value.errors[1]["__all__"][0]
    first.refresh_from_db()
    assert first.data["wt_grade"] == "2" and first.row_version == 1


def test_an_update_bumps_the_row_version_and_records_the_diff(coordinator_a, patients, v1):
    do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1)
    (outcome,) = do_save_submissions_bulk(
        coordinator_a,
        [BulkItem(patients[0], v1, {**GOOD, "wt_grade": "4"}, instance=1, expected_row_version=1)],
    )
    assert not outcome.created and outcome.submission.row_version == 2
    event = AuditEvent.objects.get(action="submission.update")
    assert event.changes == {"wt_grade": ["2", "4"]}


def test_new_instances_are_numbered_after_existing_ones(coordinator_a, patients, v1):
    do_save_submission(coordinator_a, patients[0], v1, GOOD)
    outcomes = do_save_submissions_bulk(
        coordinator_a, [BulkItem(patients[0], v1, GOOD), BulkItem(patients[0], v1, GOOD)]
    )
    assert [o.submission.instance for o in outcomes] == [2, 3]


def test_other_sites_are_refused_whole(coordinator_b, patients, v1):
    with pytest.raises(PermissionDenied):
        do_save_submissions_bulk(coordinator_b, [BulkItem(patients[0], v1, GOOD)])
    assert not Submission.objects.exists()


def test_changed_data_needs_verifying_again(coordinator_a, curator, patients, v1):
    from django.utils import timezone

    submission = do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1).submission
    Submission.objects.filter(pk=submission.pk).update(
        verified_at=timezone.now(), verified_by=curator
    )
    do_save_submissions_bulk(
        coordinator_a, [BulkItem(patients[0], v1, {**GOOD, "wt_grade": "4"}, instance=1)]
    )
    submission.refresh_from_db()
    assert submission.verified_at is None and submission.verified_by is None


@pytest.mark.parametrize("copy_from_rows", [1, 10_000], ids=["copy", "bulk_create"])
def test_batch_events_hold_what_single_saves_record(
    monkeypatch, copy_from_rows, coordinator_a, patients, v1
):
    monkeypatch.setattr(copy_insert, "COPY_FROM_ROWS", copy_from_rows)
    changed = {**GOOD, "wt_grade": "4", "findings": 'a "quoted" note'}
    do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1, status="complete")
    do_save_submission(coordinator_a, patients[0], v1, changed, instance=1)
    do_save_submissions_bulk(
        coordinator_a, [BulkItem(patients[1], v1, GOOD, instance=1, status="complete")]
    )
    do_save_submissions_bulk(coordinator_a, [BulkItem(patients[1], v1, changed, instance=1)])

    def content(patient):
        events = (
            AuditEvent.objects.filter(
                action__startswith="submission.",
                object_label__startswith=str(patient),
            )
            .order_by("pk")
            .values()
        )
        return [
            {
                key: value
                for key, value in event.items()
                if key not in ("id", "at", "object_id", "object_label")
            }
            for event in events
        ]

    single, batch = content(patients[0]), content(patients[1])
    assert [event["action"] for event in batch] == ["submission.create", "submission.update"]
    assert batch == single


def test_a_patient_said_to_be_new_who_has_the_instance_is_still_refused(
    coordinator_a, patients, v1
):
    first = do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1).submission
    with pytest.raises(ValidationError) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(patients[1], v1, GOOD, instance=1),
                BulkItem(patients[0], v1, {**GOOD, "wt_grade": "3"}, instance=1),
            ],
            new_patients={patients[0].pk},
        )
    assert "nothing was saved" in refused.value.message_dict["instance"][0]
    assert Submission.objects.get() == first
    first.refresh_from_db()
    assert first.data["wt_grade"] == "2"


def test_a_new_instance_of_a_once_per_patient_form_that_has_it_is_refused_before_writing(
    coordinator_a, patients
):
    once = publish_form(assessment_schema(form="baseline", repeatable=False))
    do_save_submission(coordinator_a, patients[0], once, GOOD)
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a, [BulkItem(patients[1], once, GOOD), BulkItem(patients[0], once, GOOD)]
        )
    assert list(refused.value.errors) == [1]
    assert "#1 exists already" in refused.value.errors[1]["instance"][0]
    assert refused.value.conflicts == {1}
    assert Submission.objects.count() == 1


def test_a_batch_sent_again_with_its_keys_returns_the_first_saves(coordinator_a, patients, v1):
    items = [BulkItem(patient, v1, GOOD, client_uuid=uuid.uuid4()) for patient in patients]
    first = do_save_submissions_bulk(coordinator_a, items)
    again = do_save_submissions_bulk(coordinator_a, items)
    assert [o.submission.pk for o in again] == [o.submission.pk for o in first]
    assert not any(o.created for o in again)
    assert Submission.objects.count() == 3
    assert AuditEvent.objects.filter(action="submission.create").count() == 3


def test_each_refused_item_reads_as_its_save_alone_would_say_it(coordinator_a, patients, v1):
    locked = do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1).submission
    Submission.objects.filter(pk=locked.pk).update(locked=True)
    do_save_submission(coordinator_a, patients[1], v1, GOOD, instance=1)
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(patients[0], v1, GOOD, instance=1),
                BulkItem(patients[1], v1, GOOD, instance=1, expected_row_version=7),
                BulkItem(patients[2], v1, {**GOOD, "age_months": "old"}),
            ],
        )
    assert isinstance(refused.value.refusal(0), SubmissionLocked)
    stale = refused.value.refusal(1)
    assert isinstance(stale, StaleSubmission) and stale.current_row_version == 1
    invalid = refused.value.refusal(2)
    assert isinstance(invalid, ValidationError) and list(invalid.message_dict) == ["age_months"]


def test_an_item_is_refused_with_all_its_problems_at_once(coordinator_a, patients, v1):
    # Bad data and an instance the form cannot have: the importer learns both in one round.
    once = publish_form(assessment_schema(form="baseline", repeatable=False))
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(patients[0], v1, {**GOOD, "age_months": "three"}, instance=0),
                BulkItem(patients[1], once, GOOD, instance=2),
                BulkItem(patients[2], v1, GOOD),
            ],
        )
    errors = refused.value.errors
    assert list(errors) == [0, 1]
    assert set(errors[0]) == {"age_months", "instance"}
    assert errors[0]["instance"] == ["Instances are numbered from 1."]
    assert errors[1] == {
        "instance": ["Assessment is filled once per patient; it has no instance 2."]
    }
    assert not Submission.objects.exists()


def test_an_update_on_another_version_is_refused_with_its_data_errors(coordinator_a, patients, v1):
    first = do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1).submission
    v2 = publish_form(assessment_schema(version=2))
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [BulkItem(patients[0], v2, {**GOOD, "age_months": "old"}, instance=1)],
        )
    errors = refused.value.errors[0]
    assert set(errors) == {"age_months", "form_version"}
    assert errors["form_version"] == [
        f"{first} was filled on version 1; it is edited on that version."
    ]
    first.refresh_from_db()
    assert first.form_version == v1 and first.data["age_months"] == 36


def test_a_key_given_twice_in_a_batch_is_refused_and_nothing_is_saved(coordinator_a, patients, v1):
    key = uuid.uuid4()
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(patients[0], v1, GOOD, client_uuid=key),
                BulkItem(patients[1], v1, GOOD, client_uuid=uuid.uuid4()),
                BulkItem(patients[2], v1, GOOD, client_uuid=key),
            ],
        )
    assert refused.value.errors == {
        2: {
            "client_uuid": [
                "This key appears more than once in the batch; "
                "give each submission a key of its own."
            ]
        }
    }
    assert not Submission.objects.exists()


def test_one_instance_named_twice_in_a_batch_is_refused(coordinator_a, patients, v1):
    patient = patients[0]
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(patient, v1, GOOD, instance=1),
                BulkItem(patient, v1, {**GOOD, "wt_grade": "3"}, instance=1),
            ],
        )
    assert refused.value.errors == {
        1: {
            "instance": [
                f"Assessment #1 of {patient} appears more than once in this batch; send it once."
            ]
        }
    }
    assert not Submission.objects.exists()


def test_a_create_only_batch_never_changes_an_instance_that_exists(coordinator_a, patients, v1):
    kept = do_save_submission(coordinator_a, patients[0], v1, GOOD, instance=1).submission
    locked = do_save_submission(coordinator_a, patients[1], v1, GOOD, instance=1).submission
    Submission.objects.filter(pk=locked.pk).update(locked=True)
    with pytest.raises(BulkSaveRefused) as refused:
        do_save_submissions_bulk(
            coordinator_a,
            [
                BulkItem(patients[0], v1, {**GOOD, "wt_grade": "3"}, instance=1),
                BulkItem(patients[1], v1, {**GOOD, "wt_grade": "3"}, instance=1),
                BulkItem(patients[2], v1, GOOD, instance=1),
            ],
            create_only=True,
        )
    assert list(refused.value.errors) == [0, 1]
    assert refused.value.conflicts == {0} and refused.value.locked == {1}
    assert "exists already; a create never changes it" in refused.value.errors[0]["instance"][0]
    assert "is locked by a curator" in refused.value.errors[1]["instance"][0]
    kept.refresh_from_db()
    assert kept.data["wt_grade"] == "2" and Submission.objects.count() == 2
