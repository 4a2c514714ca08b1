"""The data resolution workflow: curators raise questions on fields, site coordinators answer.

A query moves open -> answered -> closed, and a closed query may be re-opened. Every turn is a
`DataQueryMessage` (never edited) and an audit event, written in the same transaction. Who may
do what:

- curators and admins open, close and re-open queries, on any site;
- the site's coordinators (and admins) answer them; a coordinator corrects the value itself
  through the form, where the change is audited like any other edit.

Message text is free text about patient data, so it is screened for identifiers like a notes
field.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry.audit.services import record_event
from registry.crfs.selectors import schema_of
from registry.formengine.phi import screen_free_text
from registry.people.access import can_curate, can_enter_data
from registry.people.models import User
from registry.quality.models import QualityIssue
from registry.submissions.models import Submission

from .models import DataQuery, DataQueryMessage, MessageKind, QueryStatus

MAX_MESSAGE_LENGTH = 4000


def _require_curator(actor: User, what: str) -> None:
    if not can_curate(actor):
        raise PermissionDenied(f"Only curators and administrators may {what} data queries.")


def _clean_text(text: str, *, required: bool, what: str) -> str:
    cleaned = (text or "").replace("\r\n", "\n").strip()
    if required and not cleaned:
        raise ValidationError({"text": [f"Write the {what}; it cannot be empty."]})
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            {
                "text": [
                    f"The {what} is {len(cleaned)} characters long; keep it under "
                    f"{MAX_MESSAGE_LENGTH}."
                ]
            }
        )
    hits = screen_free_text(cleaned)
    if hits:
        raise ValidationError(
            {
                "text": [
                    f"The {what} contains what looks like {', '.join(hits)}. Remove it: the "
                    "registry "
                    "must not hold names, contact details, dates or hospital numbers."
                ]
            }
        )
    return cleaned


def _locked_query(query: DataQuery) -> DataQuery:
    # Two people acting on one query at once must not both move it from the same status.
    return (
        DataQuery.objects.select_for_update()
        .select_related("submission__patient__site", "submission__form", "submission__form_version")
        .get(pk=query.pk)
    )


def _add_message(query: DataQuery, author: User, kind: str, text: str) -> DataQueryMessage:
    return DataQueryMessage.objects.create(query=query, author=author, kind=kind, text=text)


def _audit(
    actor: User, action: str, query: DataQuery, before: str, message: DataQueryMessage
) -> None:
    submission = query.submission
    record_event(
        actor,
        action,
        query,
        site=submission.patient.site,
        changes={"status": [before or None, query.status]} if before != query.status else {},
        context={
            "submission": submission.pk,
            "form": submission.form.name,
            "instance": submission.instance,
            "field": query.field,
            "message": message.pk,
        },
    )


def do_open_data_query(curator: User, submission: Submission, field: str, text: str) -> DataQuery:
    """Raise a question on one field of a submission."""
    _require_curator(curator, "open")
    schema = schema_of(submission.form_version)
    if field not in schema or not schema.field(field).stores_data:
        names = ", ".join(f.name for f in schema.data_fields)
        raise ValidationError(
            {
                "field": [
                    f"'{field}' is not a field of {submission.form.name} version "
                    f"{submission.form_version.number} that holds data; choose one of: {names}."
                ]
            }
        )
    cleaned = _clean_text(text, required=True, what="question")
    with transaction.atomic():
        now = timezone.now()
        query = DataQuery.objects.create(
            submission=submission,
            field=field,
            status=QueryStatus.OPEN,
            opened_by=curator,
            opened_at=now,
            updated_at=now,
        )
        message = _add_message(query, curator, MessageKind.QUESTION, cleaned)
        _audit(curator, "data_query.open", query, "", message)
    return query


def do_answer_data_query(coordinator: User, query: DataQuery, text: str) -> DataQuery:
    """Answer a query raised on one of the coordinator's sites."""
    site = query.submission.patient.site
    if not can_enter_data(coordinator, site):
        raise PermissionDenied(f"{coordinator} may not answer data queries of site {site.code}.")
    cleaned = _clean_text(text, required=True, what="answer")
    with transaction.atomic():
        query = _locked_query(query)
        if query.status == QueryStatus.CLOSED:
            raise ValidationError(
                {
                    "text": [
                        "This query is closed; a curator must re-open it before it can be answered."
                    ]
                }
            )
        before = query.status
        query.status = QueryStatus.ANSWERED
        query.updated_at = timezone.now()
        query.save(update_fields=["status", "updated_at"])
        message = _add_message(query, coordinator, MessageKind.ANSWER, cleaned)
        _audit(coordinator, "data_query.answer", query, before, message)
    return query


def do_close_data_query(curator: User, query: DataQuery, text: str = "") -> DataQuery:
    """Close a query (resolved, or no longer relevant); `text` says why, if anything."""
    _require_curator(curator, "close")
    cleaned = _clean_text(text, required=False, what="closing note")
    with transaction.atomic():
        query = _locked_query(query)
        if query.status == QueryStatus.CLOSED:
            raise ValidationError({"status": ["This query is closed already."]})
        before = query.status
        now = timezone.now()
        query.status = QueryStatus.CLOSED
        query.updated_at = query.closed_at = now
        query.save(update_fields=["status", "updated_at", "closed_at"])
        message = _add_message(query, curator, MessageKind.CLOSE, cleaned)
        _audit(curator, "data_query.close", query, before, message)
    return query


def do_reopen_data_query(curator: User, query: DataQuery, text: str) -> DataQuery:
    """Re-open a closed query, saying what is still wrong."""
    _require_curator(curator, "re-open")
    cleaned = _clean_text(text, required=True, what="reason for re-opening")
    with transaction.atomic():
        query = _locked_query(query)
        if query.status != QueryStatus.CLOSED:
            raise ValidationError(
                {"status": [f"Only a closed query can be re-opened; this one is {query.status}."]}
            )
        before = query.status
        query.status = QueryStatus.OPEN
        query.updated_at = timezone.now()
        query.closed_at = None
        query.save(update_fields=["status", "updated_at", "closed_at"])
        message = _add_message(query, curator, MessageKind.REOPEN, cleaned)
        _audit(curator, "data_query.reopen", query, before, message)
    return query


def do_send_quality_issue_to_site(actor: User, issue: QualityIssue) -> DataQuery:
    """Ask the site about a finding: a data query on the field, worded from the finding."""
    if issue.submission is None or not issue.field:
        raise ValidationError(
            {
                "field": [
                    "This finding concerns a whole patient, not one field of a form; look into it "
                    "with "
                    "the site directly, or accept it with a reason."
                ]
            }
        )
    return do_open_data_query(
        actor,
        issue.submission,
        issue.field,
        f"Data-quality check {issue.rule}: {issue.message} Please check the value and correct "
        "it, or explain why it is right.",
    )
