"""Reads of quality issues, always through the access layer.

Coordinators see the issues of their own sites; curators and admins see every site's.
Researchers see none: an issue names a patient and a field, which is record-level curation
work, not aggregate data.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse

from registry.people.access import can_curate, sites_in_scope
from registry.people.models import Role, Site, User

from .models import IssueStatus, QualityIssue, Severity

ISSUE_FILTERS = ("status", "severity", "rule", "site")


def can_see_quality(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.role in (Role.COORDINATOR, Role.CURATOR, Role.ADMIN)
    )


def visible_issues(user: User) -> QuerySet[QualityIssue]:
    """The issues `user` may see. Start every issue query here."""
    if not can_see_quality(user):
        return QualityIssue.objects.none()
    return QualityIssue.objects.filter(site__in=sites_in_scope(user)).select_related(
        "site", "patient", "submission__form", "accepted_by"
    )


def filtered_issues(user: User, filters: dict[str, str]) -> QuerySet[QualityIssue]:
    """Visible issues narrowed by the filters of the page and the API (status defaults to
    open; `all` shows every status)."""
    issues = visible_issues(user)
    status = filters.get("status") or IssueStatus.OPEN
    if status != "all":
        issues = issues.filter(status=status)
    if filters.get("severity"):
        issues = issues.filter(severity=filters["severity"])
    if filters.get("rule"):
        issues = issues.filter(rule=filters["rule"])
    if filters.get("site"):
        issues = issues.filter(site__code=filters["site"])
    return issues.order_by("site__code", "patient__pseudonym", "rule", "pk")


def issue_for(user: User, pk: int) -> QualityIssue:
    """One issue, or 404 when it does not exist or is outside the user's scope."""
    return get_object_or_404(visible_issues(user), pk=pk)


def visible_site(user: User, code: str) -> Site:
    """A site whose issues the user may see, or 404."""
    sites = sites_in_scope(user) if can_see_quality(user) else Site.objects.none()
    return get_object_or_404(sites, code=code)


def open_issue_summary(user: User) -> list[dict[str, Any]]:
    """Open issues per site and severity, for the sites the user sees."""
    counts: dict[str, dict[str, int]] = {}
    for code, severity, n in (
        visible_issues(user)
        .filter(status=IssueStatus.OPEN)
        .values_list("site__code", "severity")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(code, {})[severity] = n
    return (
        [
            {
                "site": site.code,
                "name": site.name,
                **{
                    severity.value: counts.get(site.code, {}).get(severity.value, 0)
                    for severity in Severity
                },
                "total": sum(counts.get(site.code, {}).values()),
            }
            for site in sites_in_scope(user).order_by("code")
        ]
        if can_see_quality(user)
        else []
    )


def can_see_details(user: User) -> bool:
    """Curators see the rule's details (the other patient of a near-duplicate pair)."""
    return can_curate(user)


def field_link(issue: QualityIssue) -> str | None:
    """The data-entry page of the submission, at the field, when the web app has it."""
    if issue.submission is None:
        return None
    try:
        url = reverse(
            "web:submission",
            args=[
                issue.patient.pseudonym,
                issue.submission.form.name,
                issue.submission.instance,
            ],
        )
    except NoReverseMatch:
        return None
    return f"{url}#field-{issue.field}" if issue.field else url
