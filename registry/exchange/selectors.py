"""Reads behind every export, always through the access layer.

Both querysets are ordered by patient, so that an export can walk them side by side and hold
only one patient's rows in memory. `.iterator(chunk_size=...)` streams them: in chunks on
SQLite, through a server-side cursor on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from registry.patients.selectors import visible_patients
from registry.people.models import User
from registry.submissions.selectors import visible_submissions

PATIENT_COLUMNS = ("pk", "pseudonym", "site__code", "site__name", "sex", "year_of_birth")
SUBMISSION_COLUMNS = ("patient_id", "form_version_id", "instance", "status", "data")
SUBMISSION_RECORD_COLUMNS = (*SUBMISSION_COLUMNS, "updated_at")


def export_patients(
    user: User, *, sites: Collection[str] = (), records: Collection[str] = ()
) -> QuerySet[Any]:
    """The patients of an export as tuples of PATIENT_COLUMNS, in enrolment order."""
    patients = visible_patients(user)
    if sites:
        patients = patients.filter(site__code__in=list(sites))
    if records:
        patients = patients.filter(pseudonym__in=list(records))
    return patients.order_by("pk").values_list(*PATIENT_COLUMNS)


def export_submissions(
    user: User,
    *,
    version_ids: Collection[int],
    sites: Collection[str] = (),
    records: Collection[str] = (),
    statuses: Collection[str] = (),
    version: int | None = None,
    changed_since: datetime | None = None,
    changed_until: datetime | None = None,
    with_updated_at: bool = False,
    patient_ids: Collection[int] | None = None,
) -> QuerySet[Any]:
    """The submissions of an export, ordered by patient, as tuples of SUBMISSION_COLUMNS
    (of the patients `patient_ids` names, when given)."""
    submissions = visible_submissions(user).filter(form_version_id__in=list(version_ids))
    if patient_ids is not None:
        if connection.vendor == "postgresql":
            # Matched against an array's elements, each is looked up in the index; as an IN
            # list of thousands the planner would read the whole table for every batch (as
            # `patients.selectors.with_pseudonyms` explains).
            submissions = submissions.filter(
                patient_id__in=RawSQL("SELECT unnest(%s::bigint[])", (list(patient_ids),))
            )
        else:
            submissions = submissions.filter(patient_id__in=list(patient_ids))
    if sites:
        submissions = submissions.filter(patient__site__code__in=list(sites))
    if records:
        submissions = submissions.filter(patient__pseudonym__in=list(records))
    if statuses:
        submissions = submissions.filter(status__in=list(statuses))
    if version is not None:
        submissions = submissions.filter(form_version__number=version)
    if changed_since is not None:
        submissions = submissions.filter(updated_at__gte=changed_since)
    if changed_until is not None:
        submissions = submissions.filter(updated_at__lte=changed_until)
    columns = SUBMISSION_RECORD_COLUMNS if with_updated_at else SUBMISSION_COLUMNS
    # Ordered by patient only: a patient's few rows are put in form order in Python, and the
    # database can walk the patient index instead of sorting the whole table.
    return submissions.order_by("patient_id").values_list(*columns)
