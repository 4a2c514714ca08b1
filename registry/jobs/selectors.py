"""Reads of job runs. Runs are curators' and admins' business: everyone else sees none."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from registry.people.access import can_curate
from registry.people.models import User

from .models import JobKind, JobRun, JobStatus

LISTED_KINDS = (JobKind.STATISTICS, JobKind.QUALITY)


def can_see_runs(user: User) -> bool:
    return can_curate(user)


def visible_runs(user: User) -> QuerySet[JobRun]:
    """Statistics and quality runs (exports are their requesters' own, in the export API)."""
    if not can_see_runs(user):
        return JobRun.objects.none()
    return (
        JobRun.objects.filter(kind__in=LISTED_KINDS)
        .select_related("requested_by", "rerun_of")
        .order_by("-created_at", "-pk")
    )


def run_for(user: User, pk: int) -> JobRun:
    return get_object_or_404(visible_runs(user), pk=pk)


def latest_run(user: User, kind: str) -> JobRun | None:
    """The newest run of `kind` still queued or running, for pages that say "in progress"."""
    return (
        visible_runs(user)
        .filter(kind=kind, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .first()
    )


def has_active_runs(runs: QuerySet[JobRun]) -> bool:
    return runs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists()
