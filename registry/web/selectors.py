"""Reads behind the coordinator pages, always starting from the access layer.

The record status dashboard must stay fast for a site with tens of thousands of patients, so it
costs a fixed number of queries whatever the page holds: the page's patients, then all their
submissions in one query, never one query per cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, QuerySet

from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.selectors import latest_versions
from registry.curation.models import QueryStatus
from registry.curation.selectors import visible_data_queries
from registry.patients.models import Patient
from registry.patients.selectors import visible_patients
from registry.people.access import sites_in_scope
from registry.people.models import Role, Site, User
from registry.quality.models import IssueStatus, QualityIssue
from registry.submissions.models import Status, Submission
from registry.submissions.selectors import visible_submissions

PATIENTS_PER_PAGE = 50
NOT_STARTED = "none"
LOCKED = "locked"
STATUS_FILTERS: dict[str, str] = {
    Status.INCOMPLETE: "At least one incomplete form",
    Status.UNVERIFIED: "At least one unverified form",
    Status.COMPLETE: "At least one complete form",
    LOCKED: "At least one locked form",
    NOT_STARTED: "At least one form not started",
}


def sees_records(user: User) -> bool:
    """Whether the record-level pages are for `user`: researchers use the API's exports."""
    return user.is_authenticated and user.is_active and user.role != Role.RESEARCHER


@dataclass(frozen=True)
class Cell:
    """One submission on the dashboard: an instance of a form, its status and lock."""

    instance: int
    status: str
    locked: bool
    version: int

    @property
    def label(self) -> str:
        """The status as people read it ("Incomplete"), not its stored code."""
        return str(Status(self.status).label)


@dataclass
class StatusRow:
    patient: Patient
    cells: list[tuple[FormVersion, list[Cell]]]
    """One (form column, instances ascending) pair per column, in column order."""


@dataclass
class RecordStatusDashboard:
    site: Site
    columns: list[FormVersion]
    page: Page
    rows: list[StatusRow]
    open_queries: int
    open_issues: int


def _matching_patients(
    user: User, site: Site, search: str, status: str, form_count: int
) -> QuerySet[Patient]:
    patients = visible_patients(user).filter(site=site)
    search = search.strip()
    if search:
        patients = patients.filter(pseudonym__icontains=search)
    if status == NOT_STARTED:
        patients = patients.annotate(
            forms_started=Count("submissions__form", distinct=True)
        ).filter(forms_started__lt=form_count)
    elif status == LOCKED:
        patients = patients.filter(
            Exists(Submission.objects.filter(patient=OuterRef("pk"), locked=True))
        )
    elif status in Status.values:
        patients = patients.filter(
            Exists(Submission.objects.filter(patient=OuterRef("pk"), status=status))
        )
    # Newest first: the patient just enrolled is the one a coordinator works on next.
    return patients.order_by("-created_at", "-pk")


def record_status_dashboard(
    user: User, site: Site, *, search: str = "", status: str = "", page_number: object = 1
) -> RecordStatusDashboard:
    """One page of the site's patients with the status of every form they have."""
    columns = latest_versions()
    patients = _matching_patients(user, site, search, status, len(columns))
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(page_number)
    on_page = list(page.object_list)
    column_of = {version.form_id: index for index, version in enumerate(columns)}
    cells: dict[int, list[list[Cell]]] = {patient.pk: [[] for _ in columns] for patient in on_page}
    found = (
        visible_submissions(user)
        .filter(patient__in=[patient.pk for patient in on_page])
        .order_by("patient_id", "form_id", "instance")
        .values_list(
            "patient_id", "form_id", "instance", "status", "locked", "form_version__number"
        )
    )
    for patient_id, form_id, instance, state, locked, number in found:
        column = column_of.get(form_id)
        if column is not None:
            cells[patient_id][column].append(Cell(instance, state, locked, number))
    open_queries = (
        visible_data_queries(user)
        .filter(submission__patient__site=site, status=QueryStatus.OPEN)
        .count()
    )
    open_issues = QualityIssue.objects.filter(
        site__in=sites_in_scope(user), site=site, status=IssueStatus.OPEN
    ).count()
    return RecordStatusDashboard(
        site=site,
        columns=columns,
        page=page,
        rows=[
            StatusRow(patient, list(zip(columns, cells[patient.pk], strict=True)))
            for patient in on_page
        ],
        open_queries=open_queries,
        open_issues=open_issues,
    )


@dataclass
class FormOverview:
    """A form on the patient page: its newest version and the patient's instances of it."""

    form: FormDefinition
    latest: FormVersion
    submissions: list[Submission] = field(default_factory=list)


def patient_forms(user: User, patient: Patient) -> list[FormOverview]:
    """Every published form, with the patient's submissions of it (enrolment first)."""
    overview = [FormOverview(version.form, version) for version in latest_versions()]
    by_form = {item.form.pk: item for item in overview}
    submissions = (
        visible_submissions(user)
        .filter(patient=patient)
        .select_related("updated_by")
        .order_by("form_id", "instance")
    )
    for submission in submissions:
        item = by_form.get(submission.form_id)
        if item is not None:
            item.submissions.append(submission)
    return overview


def open_queries_of(user: User, submissions: Sequence[Submission]) -> dict[int, int]:
    """The number of unresolved data queries (open or answered) per submission id."""
    counts = (
        visible_data_queries(user)
        .filter(submission__in=[s.pk for s in submissions])
        .exclude(status=QueryStatus.CLOSED)
        .values("submission_id")
        .annotate(n=Count("id"))
    )
    return {row["submission_id"]: row["n"] for row in counts}
