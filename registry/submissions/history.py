"""A submission's or a patient's history, read from the audit trail, in the form's own words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from registry.audit.actions import READ_ACTIONS
from registry.audit.models import AuditEvent
from registry.crfs.selectors import schema_of
from registry.formengine.display import display_value
from registry.formengine.schema import FormSchema
from registry.patients.models import Patient

from .models import Submission


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    what: str
    changes: list[Change]


def _labelled(schema: FormSchema | None, changes: dict[str, list[Any]]) -> list[Change]:
    labelled = []
    for name, (before, after) in changes.items():
        field = schema.fields_by_name.get(name) if schema else None
        if field is None:
            labelled.append(
                Change(name, name.replace("_", " ").capitalize(), _plain(before), _plain(after))
            )
        else:
            labelled.append(
                Change(name, field.label, display_value(field, before), display_value(field, after))
            )
    return labelled


def _plain(value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def submission_history(submission: Submission) -> list[HistoryEntry]:
    """Every change to a submission, oldest first (reads of it are in the trail, not here)."""
    schema = schema_of(submission.form_version)
    events = (
        AuditEvent.objects.filter(
            object_type="submissions.submission", object_id=str(submission.pk)
        )
        .exclude(action__in=READ_ACTIONS)
        .order_by("at", "id")
    )
    return [HistoryEntry(event, event.action, _labelled(schema, event.changes)) for event in events]


def patient_history(patient: Patient, *, with_reads: bool = False) -> list[HistoryEntry]:
    """Everything that happened to a patient and their submissions, oldest first; with their
    reads too when `with_reads` (the trail for inspections), else the changes alone."""
    submissions = {
        str(submission.pk): submission
        for submission in patient.submissions.select_related("form", "form_version")
    }
    events = AuditEvent.objects.filter(
        Q(object_type="patients.patient", object_id=str(patient.pk))
        | Q(object_type="submissions.submission", object_id__in=list(submissions))
    )
    if not with_reads:
        events = events.exclude(action__in=READ_ACTIONS)
    entries = []
    for event in events.order_by("at", "id"):
        submission = (
            submissions.get(event.object_id)
            if event.object_type.startswith("submissions")
            else None
        )
        schema = schema_of(submission.form_version) if submission else None
        what = (
            f"{event.action} ({submission.form.name} #{submission.instance})"
            if submission
            else event.action
        )
        entries.append(HistoryEntry(event, what, _labelled(schema, event.changes)))
    return entries
