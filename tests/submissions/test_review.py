"""Curators verify, lock and unlock submissions; each action is audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.audit.models import AuditEvent
from registry.curation.models import DataQuery, QueryStatus
from registry.curation.review import (
    do_lock_submission,
    do_lock_submissions,
    do_unlock_submission,
    do_verify_submission,
)
from registry.submissions.models import Submission
from registry.submissions.services import SubmissionLocked, do_save_submission
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db

DATA = {"age_months": 36, "mm_present": "1", "wt_grade": "2"}


@pytest.fixture
def form_version():
    return publish_form(assessment_schema())


@pytest.fixture
def submission(coordinator_a, site_a, form_version):
    patient = PatientFactory(site=site_a, pseudonym="SITEA-R1")
    return do_save_submission(
        coordinator_a, patient, form_version, DATA, status="complete", instance=1
    ).submission


def test_curator_verifies_a_complete_submission(curator, submission):
    do_verify_submission(curator, submission)
    submission.refresh_from_db()
    assert submission.verified_by == curator and submission.verified_at is not None
    assert AuditEvent.objects.filter(action="submission.verify", actor=curator).exists()


def test_an_incomplete_submission_cannot_be_verified(
    curator, coordinator_a, submission, form_version
):
    do_save_submission(
        coordinator_a, submission.patient, form_version, DATA, instance=1, status="incomplete"
    )
    with pytest.raises(ValidationError, match="Only complete submissions can be verified"):
        do_verify_submission(curator, submission)


def test_changing_verified_data_clears_the_verification(
    curator, coordinator_a, submission, form_version
):
    do_verify_submission(curator, submission)
    do_save_submission(
        coordinator_a,
        submission.patient,
        form_version,
        {**DATA, "wt_grade": "3"},
        instance=1,
        status="complete",
    )
    submission.refresh_from_db()
    assert submission.verified_at is None


def test_coordinators_cannot_verify_or_lock(coordinator_a, submission):
    with pytest.raises(PermissionDenied):
        do_verify_submission(coordinator_a, submission)
    with pytest.raises(PermissionDenied):
        do_lock_submission(coordinator_a, submission)


def test_a_locked_submission_refuses_edits_until_unlocked_with_a_reason(
    curator, coordinator_a, submission, form_version
):
    do_lock_submission(curator, submission)
    with pytest.raises(SubmissionLocked, match="locked by a curator"):
        do_save_submission(
            coordinator_a, submission.patient, form_version, {**DATA, "wt_grade": "4"}, instance=1
        )
    with pytest.raises(ValidationError, match="Say why"):
        do_unlock_submission(curator, submission, "  ")
    assert Submission.objects.get(pk=submission.pk).locked

    do_unlock_submission(curator, submission, "Grade to be corrected after re-examination")
    do_save_submission(
        coordinator_a, submission.patient, form_version, {**DATA, "wt_grade": "4"}, instance=1
    )
    assert Submission.objects.get(pk=submission.pk).data["wt_grade"] == "4"
    unlock = AuditEvent.objects.get(action="submission.unlock")
    assert unlock.context["reason"] == "Grade to be corrected after re-examination"
    assert AuditEvent.objects.filter(action="submission.lock").count() == 1


def test_open_queries_block_locking(curator, submission):
    DataQuery.objects.create(submission=submission, field="wt_grade", opened_by=curator)
    with pytest.raises(ValidationError, match="1 data query not yet closed"):
        do_lock_submission(curator, submission)
    DataQuery.objects.update(status=QueryStatus.CLOSED)
    assert do_lock_submission(curator, submission).locked


def test_bulk_lock_reports_those_it_could_not_lock(
    curator, submission, coordinator_a, form_version
):
    other = do_save_submission(
        coordinator_a, submission.patient, form_version, DATA, status="complete"
    ).submission
    DataQuery.objects.create(submission=other, field="wt_grade", opened_by=curator)
    problems = do_lock_submissions(curator, [submission, other])
    assert len(problems) == 1
    assert Submission.objects.get(pk=submission.pk).locked
    assert not Submission.objects.get(pk=other.pk).locked
