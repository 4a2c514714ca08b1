"""Reads of data queries, always through the access layer."""

from __future__ import annotations

from django.db.models import QuerySet

from registry.people.access import sites_in_scope
from registry.people.models import Role, User

from .models import DataQuery


def visible_data_queries(user: User) -> QuerySet[DataQuery]:
    """The data queries `user` may read: those on their sites' submissions.

    Researchers see none: a query names a patient's record and quotes its values, which is
    record-level data.
    """
    if not user.is_authenticated or user.role == Role.RESEARCHER:
        return DataQuery.objects.none()
    return DataQuery.objects.filter(
        submission__patient__site__in=sites_in_scope(user)
    ).select_related(
        "submission__patient__site", "submission__form", "submission__form_version", "opened_by"
    )
