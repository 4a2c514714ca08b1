"""Curators' review of submissions: verify, lock and unlock. Each action is audited.

A locked submission is read-only everywhere (the web forms, the REST API and REDCap import all
save through `do_save_submission`, which refuses it). Open data queries block locking: the
question must be settled before the data is frozen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry.audit.services import record_event
from registry.people.access import require_curation
from registry.people.models import User
from registry.submissions.models import Status, Submission

from .models import QueryStatus


def _reload_for_update(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update()
        .select_related("patient__site", "form")
        .get(pk=submission.pk)
    )


def do_verify_submission(curator: User, submission: Submission) -> Submission:
    """Record that a curator reviewed a complete submission and found it right."""
    require_curation(curator)
    with transaction.atomic():
        submission = _reload_for_update(submission)
        if submission.status != Status.COMPLETE:
            raise ValidationError(
                {
                    "status": [
                        "Only complete submissions can be verified, and the status of "
                        f"{submission.display_name} is {submission.get_status_display()}. Ask "
                        "the site to complete it first."
                    ]
                }
            )
        if submission.verified_at is None:
            submission.verified_at, submission.verified_by = timezone.now(), curator
            submission.save(update_fields=["verified_at", "verified_by"])
            record_event(
                curator,
                "submission.verify",
                submission,
                site=submission.patient.site,
                changes={"verified": [False, True]},
            )
    return submission


def do_lock_submission(curator: User, submission: Submission) -> Submission:
    require_curation(curator)
    with transaction.atomic():
        submission = _reload_for_update(submission)
        open_queries = submission.queries.exclude(status=QueryStatus.CLOSED).count()
        if open_queries:
            raise ValidationError(
                {
                    "locked": [
                        f"{submission} has {open_queries} data "
                        f"quer{'y' if open_queries == 1 else 'ies'} "
                        "not yet closed; close them before locking."
                    ]
                }
            )
        if not submission.locked:
            submission.locked = True
            submission.save(update_fields=["locked"])
            record_event(
                curator,
                "submission.lock",
                submission,
                site=submission.patient.site,
                changes={"locked": [False, True]},
            )
    return submission


def do_unlock_submission(curator: User, submission: Submission, reason: str) -> Submission:
    require_curation(curator)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {
                "reason": [
                    "Say why the submission is unlocked (for example, which correction is "
                    "expected); "
                    "the reason is kept in the audit trail."
                ]
            }
        )
    with transaction.atomic():
        submission = _reload_for_update(submission)
        if submission.locked:
            submission.locked = False
            submission.save(update_fields=["locked"])
            record_event(
                curator,
                "submission.unlock",
                submission,
                site=submission.patient.site,
                changes={"locked": [True, False]},
                context={"reason": reason},
            )
    return submission


def do_verify_submissions(curator: User, submissions: Iterable[Submission]) -> list[str]:
    """Verify many; returns the problems of those that could not be verified."""
    return _each(submissions, lambda s: do_verify_submission(curator, s))


def do_lock_submissions(curator: User, submissions: Iterable[Submission]) -> list[str]:
    """Lock many; returns the problems of those that could not be locked."""
    return _each(submissions, lambda s: do_lock_submission(curator, s))


def _each(submissions: Iterable[Submission], action: Callable[[Submission], object]) -> list[str]:
    problems = []
    for submission in submissions:
        try:
            action(submission)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems
