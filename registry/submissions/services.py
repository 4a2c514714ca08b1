"""Saving submissions: validated by the form engine, audited, safe against lost updates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from registry.audit.services import diff, record_event
from registry.crfs.models import FormVersion
from registry.crfs.selectors import schema_of
from registry.formengine.validation import validate_submission
from registry.patients.models import Patient
from registry.people.access import require_data_entry
from registry.people.models import User

from .models import Status, Submission


class SubmissionLocked(Exception):
    """The submission is locked by a curator and cannot be changed."""

    def __init__(self, submission: Submission) -> None:
        super().__init__(
            f"{submission} is locked by a curator and cannot be changed. "
            "Ask a curator to unlock it if a correction is needed."
        )


class StaleSubmission(Exception):
    """Someone else saved the submission after the caller read it."""

    def __init__(self, submission: Submission, expected: int) -> None:
        self.current_row_version = submission.row_version
        super().__init__(
            f"{submission} was changed by someone else since you opened it (you had version "
            f"{expected}, it is now at {submission.row_version}). Reload it to see their "
            "changes, then apply yours again."
        )


@dataclass(frozen=True)
class SaveOutcome:
    submission: Submission
    created: bool
    recomputed: dict[str, Any] = field(default_factory=dict)
    cleared_hidden: list[str] = field(default_factory=list)


def do_save_submission(
    actor: User,
    patient: Patient,
    form_version: FormVersion,
    data: dict[str, Any],
    *,
    status: str = Status.INCOMPLETE,
    instance: int | None = None,
    expected_row_version: int | None = None,
    client_uuid: uuid.UUID | None = None,
    clear_hidden: bool = False,
) -> SaveOutcome:
    """Create or update one instance of a form for a patient.

    `instance=None` creates a new instance (the next number for a repeatable form, 1 otherwise).
    Raises ValidationError (field -> messages) for bad data, SubmissionLocked, StaleSubmission.
    """
    require_data_entry(actor, patient.site)
    if client_uuid is not None:
        earlier = Submission.objects.filter(client_uuid=client_uuid).first()
        if earlier is not None:
            if earlier.patient_id != patient.pk:
                raise ValidationError({"client_uuid": ["This key was used for another patient."]})
            return SaveOutcome(earlier, created=False)
    if status not in Status.values:
        raise ValidationError({"status": [f"Choose one of: {', '.join(Status.values)}."]})

    result = validate_submission(schema_of(form_version), data, clear_hidden=clear_hidden)
    if result.errors:
        raise ValidationError(result.errors)

    form = form_version.form
    with transaction.atomic():
        existing = None
        if instance is not None:
            existing = (
                Submission.objects.select_for_update()
                .filter(patient=patient, form=form, instance=instance)
                .first()
            )
        if existing is None:
            submission = _create(actor, patient, form_version, result.data, status, instance,
                                 client_uuid)
            changes = diff({}, {**result.data, "status": status})
            created = True
        else:
            before = {**existing.data, "status": existing.status}
            submission = _update(actor, existing, form_version, result.data, status,
                                 expected_row_version)
            changes = diff(before, {**result.data, "status": status})
            created = False
        record_event(
            actor, "submission.create" if created else "submission.update", submission,
            site=patient.site, changes=changes,
            context={
                "form": form.name, "version": form_version.number,
                "instance": submission.instance, "row_version": submission.row_version,
                "recomputed": {k: list(v) for k, v in result.recomputed.items()},
                "cleared_hidden": list(result.cleared_hidden),
            },
        )
    return SaveOutcome(submission, created, dict(result.recomputed), list(result.cleared_hidden))


def _create(
    actor: User, patient: Patient, form_version: FormVersion, data: dict[str, Any], status: str,
    instance: int | None, client_uuid: uuid.UUID | None,
) -> Submission:
    form = form_version.form
    if instance is None:
        last = Submission.objects.filter(patient=patient, form=form).aggregate(n=Max("instance"))
        instance = (last["n"] or 0) + 1
    if instance < 1:
        raise ValidationError({"instance": ["Instances are numbered from 1."]})
    if instance > 1 and not form.repeatable:
        raise ValidationError({
            "instance": [f"{form.title} is filled once per patient; it has no instance {instance}."]
        })
    try:
        with transaction.atomic():
            return Submission.objects.create(
                patient=patient, form=form, form_version=form_version, instance=instance,
                data=data, status=status, client_uuid=client_uuid,
                created_by=actor, updated_by=actor,
            )
    except IntegrityError as error:
        raise ValidationError({
            "instance": [f"{form.title} #{instance} exists already for {patient}; open it to "
                         "change it."]
        }) from error


def _update(
    actor: User, submission: Submission, form_version: FormVersion, data: dict[str, Any],
    status: str, expected_row_version: int | None,
) -> Submission:
    if submission.locked:
        raise SubmissionLocked(submission)
    if expected_row_version is not None and expected_row_version != submission.row_version:
        raise StaleSubmission(submission, expected_row_version)
    if submission.form_version_id != form_version.pk:
        # A submission stays on the version it was filled on; data never moves silently.
        raise ValidationError({"form_version": [
            f"{submission} was filled on version {submission.form_version.number}; "
            "it is edited on that version."
        ]})
    submission.data = data
    submission.status = status
    submission.row_version += 1
    submission.updated_by = actor
    submission.updated_at = timezone.now()
    submission.save(update_fields=["data", "status", "row_version", "updated_by", "updated_at"])
    return submission
