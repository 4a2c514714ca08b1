"""Reads of the API that have no home selector elsewhere, always through the access layer."""

from django.db.models import QuerySet

from registry.curation.models import DataQuery
from registry.curation.selectors import visible_data_queries
from registry.jobs.models import JobKind, JobRun
from registry.people.models import ApiToken, Role, User


def data_queries_with_threads(user: User) -> QuerySet[DataQuery]:
    """The data queries `user` may read, each with its thread of messages."""
    return (
        visible_data_queries(user)
        .defer("submission__form_version__schema")
        .prefetch_related("messages__author")
    )


def own_api_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user) if user.is_authenticated else ApiToken.objects.none()


def visible_export_jobs(user: User) -> QuerySet[JobRun]:
    """Export jobs `user` may follow and download: their own (administrators: all)."""
    jobs = JobRun.objects.filter(kind=JobKind.EXPORT).select_related("requested_by")
    if user.role == Role.ADMIN:
        return jobs
    return jobs.filter(requested_by=user)
