"""Saving a submission: one engine validates, the audit trail records, nothing is lost."""

import contextvars
import threading
import time
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from registry.audit.models import AuditEvent
from registry.submissions.models import Submission
from registry.submissions.services import StaleSubmission, SubmissionLocked, do_save_submission
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db

GOOD = {"age_months": "36", "mm_present": "1", "wt_grade": "2"}


@pytest.fixture
def v1():
    return publish_form(assessment_schema())


@pytest.fixture
def patient(site_a):
    return PatientFactory(site=site_a, pseudonym="SITEA-00001")


def test_valid_data_is_saved_typed_and_audited(coordinator_a, patient, v1):
    outcome = do_save_submission(coordinator_a, patient, v1, GOOD, status="complete")
    submission = Submission.objects.get()
    assert outcome.created and submission.instance == 1
    assert submission.data == {"age_months": 36, "mm_present": "1", "wt_grade": "2"}
    assert submission.status == "complete" and submission.row_version == 1
    event = AuditEvent.objects.get(action="submission.create")
    assert event.changes["age_months"] == [None, 36]
    assert event.context["version"] == 1


def test_bad_data_names_the_field_and_stores_nothing(coordinator_a, patient, v1):
    with pytest.raises(ValidationError) as error:
        do_save_submission(coordinator_a, patient, v1, {**GOOD, "age_months": "3 years"})
    assert list(error.value.message_dict) == ["age_months"]
    assert not Submission.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="submission").exists()


def test_free_text_with_an_identifier_is_refused(coordinator_a, patient, v1):
    with pytest.raises(ValidationError) as error:
        do_save_submission(coordinator_a, patient, v1, {**GOOD, "findings": "call 0912 345 6789"})
    assert "findings" in error.value.message_dict


def test_update_records_a_field_level_diff(coordinator_a, patient, v1):
    do_save_submission(coordinator_a, patient, v1, GOOD, instance=1)
    do_save_submission(
        coordinator_a,
        patient,
        v1,
        {**GOOD, "wt_grade": "3"},
        instance=1,
        expected_row_version=1,
        status="complete",
    )
    event = AuditEvent.objects.get(action="submission.update")
    assert event.changes == {"wt_grade": ["2", "3"], "status": ["incomplete", "complete"]}
    assert Submission.objects.get().row_version == 2


def test_a_stale_save_is_refused_and_changes_nothing(coordinator_a, patient, v1):
    do_save_submission(coordinator_a, patient, v1, GOOD, instance=1)
    do_save_submission(
        coordinator_a, patient, v1, {**GOOD, "wt_grade": "3"}, instance=1, expected_row_version=1
    )
    with pytest.raises(StaleSubmission) as stale:
        do_save_submission(
            coordinator_a,
            patient,
            v1,
            {**GOOD, "wt_grade": "4"},
            instance=1,
            expected_row_version=1,
        )
    submission = Submission.objects.get()
    assert submission.data["wt_grade"] == "3"
    # What the person sees: what happened, and what to do about it.
    assert str(stale.value) == (
        f"{submission} was changed by someone else since you opened it (you had version 1, "
        "it is now at 2). Reload it to see their changes, then apply yours again."
    )


def test_a_locked_submission_cannot_be_changed(coordinator_a, patient, v1):
    submission = do_save_submission(coordinator_a, patient, v1, GOOD, instance=1).submission
    Submission.objects.filter(pk=submission.pk).update(locked=True)
    with pytest.raises(SubmissionLocked) as locked:
        do_save_submission(coordinator_a, patient, v1, {**GOOD, "wt_grade": "4"}, instance=1)
    assert Submission.objects.get().data["wt_grade"] == "2"
    assert str(locked.value) == (
        f"{submission} is locked by a curator and cannot be changed. "
        "Ask a curator to unlock it if a correction is needed."
    )


def test_repeatable_forms_number_new_instances(coordinator_a, patient, v1):
    first = do_save_submission(coordinator_a, patient, v1, GOOD).submission
    second = do_save_submission(coordinator_a, patient, v1, GOOD).submission
    assert (first.instance, second.instance) == (1, 2)


def test_a_once_per_patient_form_has_no_second_instance(coordinator_a, patient):
    once = publish_form(assessment_schema(form="baseline", repeatable=False))
    do_save_submission(coordinator_a, patient, once, GOOD)
    with pytest.raises(ValidationError) as error:
        do_save_submission(coordinator_a, patient, once, GOOD)
    assert "#1 exists already" in error.value.message_dict["instance"][0]
    assert Submission.objects.count() == 1
    assert AuditEvent.objects.filter(action="submission.create").count() == 1
    with pytest.raises(ValidationError) as error:
        do_save_submission(coordinator_a, patient, once, GOOD, instance=2)
    assert "filled once per patient" in error.value.message_dict["instance"][0]


def test_a_retried_create_with_the_same_key_returns_the_first(coordinator_a, patient, v1):
    key = uuid.uuid4()
    first = do_save_submission(coordinator_a, patient, v1, GOOD, client_uuid=key)
    again = do_save_submission(coordinator_a, patient, v1, GOOD, client_uuid=key)
    assert again.submission.pk == first.submission.pk and not again.created
    assert Submission.objects.count() == 1


def test_a_retry_naming_its_instance_returns_the_first_and_changes_nothing(
    coordinator_a, patient, v1
):
    key = uuid.uuid4()
    first = do_save_submission(coordinator_a, patient, v1, GOOD, instance=1, client_uuid=key)
    again = do_save_submission(
        coordinator_a, patient, v1, {**GOOD, "wt_grade": "3"}, instance=1, client_uuid=key
    )
    assert again.submission.pk == first.submission.pk and not again.created
    stored = Submission.objects.get()
    assert stored.row_version == 1 and stored.data["wt_grade"] == "2"
    assert AuditEvent.objects.filter(action__startswith="submission").count() == 1


def test_a_retry_is_answered_with_the_first_even_if_its_data_no_longer_passes(
    coordinator_a, patient, v1
):
    key = uuid.uuid4()
    first = do_save_submission(coordinator_a, patient, v1, GOOD, client_uuid=key)
    again = do_save_submission(
        coordinator_a, patient, v1, {**GOOD, "age_months": "3 years"}, client_uuid=key
    )
    assert again.submission.pk == first.submission.pk and not again.created
    assert Submission.objects.count() == 1


def test_a_key_used_for_another_patient_is_refused(coordinator_a, patient, site_a, v1):
    key = uuid.uuid4()
    do_save_submission(coordinator_a, patient, v1, GOOD, client_uuid=key)
    other = PatientFactory(site=site_a, pseudonym="SITEA-00002")
    with pytest.raises(ValidationError) as error:
        do_save_submission(coordinator_a, other, v1, GOOD, client_uuid=key)
    assert list(error.value.message_dict) == ["client_uuid"]
    assert Submission.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two connections writing at once"
)
@pytest.mark.django_db(transaction=True)
def test_of_two_creates_racing_for_one_number_the_later_saves_nothing(coordinator_a, patient, v1):
    first_inserted, release = threading.Event(), threading.Event()
    errors: list[ValidationError] = []

    def first() -> None:
        try:
            with transaction.atomic():
                do_save_submission(coordinator_a, patient, v1, GOOD)
                first_inserted.set()
                release.wait(30)
        finally:
            connection.close()

    def second() -> None:
        try:
            do_save_submission(coordinator_a, patient, v1, GOOD, client_uuid=uuid.uuid4())
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    # A thread starts with no scope of its own: each runs in a copy of the test's.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(target,))
        for target in (first, second)
    ]
    threads[0].start()
    assert first_inserted.wait(30)
    # The second numbers itself 1 as well (the first's row is not committed yet) and waits on
    # the unique key until the first commits.
    threads[1].start()
    _wait_for_a_lock_wait()
    release.set()
    for thread in threads:
        thread.join(30)
    [error] = errors
    assert "at the same moment" in error.message_dict["instance"][0]
    assert list(Submission.objects.values_list("instance", flat=True)) == [1]
    assert AuditEvent.objects.filter(action="submission.create").count() == 1
    assert do_save_submission(coordinator_a, patient, v1, GOOD).submission.instance == 2


def _wait_for_a_lock_wait() -> None:
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.1)
    raise AssertionError("the second create never waited for the first")


def test_a_submission_stays_on_the_version_it_was_filled_on(coordinator_a, patient, v1):
    submission = do_save_submission(coordinator_a, patient, v1, GOOD, instance=1).submission
    v2 = publish_form(assessment_schema(version=2, title="Assessment v2"))
    do_save_submission(coordinator_a, patient, v1, {**GOOD, "wt_grade": "1"}, instance=1)
    submission.refresh_from_db()
    assert submission.form_version == v1
    with pytest.raises(ValidationError) as error:
        do_save_submission(coordinator_a, patient, v2, GOOD, instance=1)
    assert "form_version" in error.value.message_dict


def test_coordinator_cannot_save_for_another_sites_patient(coordinator_b, patient, v1):
    with pytest.raises(PermissionDenied):
        do_save_submission(coordinator_b, patient, v1, GOOD)
    assert not Submission.objects.exists()


def test_the_audit_event_says_what_was_saved_and_what_the_save_did_by_itself(
    coordinator_a, patient, v1
):
    do_save_submission(coordinator_a, patient, v1, GOOD, instance=1)
    outcome = do_save_submission(
        coordinator_a,
        patient,
        v1,
        {**GOOD, "mm_present": "0"},
        instance=1,
        expected_row_version=1,
        clear_hidden=True,
    )
    assert outcome.cleared_hidden == ["wt_grade"] and "wt_grade" not in outcome.submission.data
    event = AuditEvent.objects.get(action="submission.update")
    assert event.actor == coordinator_a and event.site_id == patient.site_id
    assert event.object_id == str(outcome.submission.pk)
    assert event.context == {
        "form": "assessment",
        "version": 1,
        "instance": 1,
        "row_version": 2,
        "recomputed": {},
        "cleared_hidden": ["wt_grade"],
    }
    assert event.changes == {"mm_present": ["1", "0"], "wt_grade": ["2", None]}
