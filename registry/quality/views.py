"""Quality pages: the issues of one's sites (all sites for curators), each linking to the field
in the form, and the curator's "accept as correct"."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from registry.audit.reads import do_record_list_view, do_record_view
from registry.jobs.services import can_run_jobs
from registry.people.models import Role
from registry.statistics.catalogue import form_catalogue

from .models import IssueStatus, Severity
from .rules import QualityRulesError, all_rules
from .selectors import (
    ISSUE_FILTERS,
    can_see_details,
    can_see_quality,
    field_link,
    filtered_issues,
    issue_for,
    open_issue_summary,
    visible_site,
)
from .services import (
    can_accept_issues,
    do_accept_quality_issue,
    do_reopen_quality_issue,
    rules_file,
)

PAGE_SIZE = 50


def _require_quality(request: HttpRequest) -> None:
    if not can_see_quality(request.user):
        raise Http404("No such page.")


def quality_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in people who see quality issues; researchers are told where their data is
    (an issue names a patient and a field of their record)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.role == Role.RESEARCHER:
            return render(request, "web/records_elsewhere.html", status=403)
        _require_quality(request)
        return view(request, *args, **kwargs)

    return wrapper


def _issue_list(request: HttpRequest, template: str, extra: dict[str, Any]) -> HttpResponse:
    filters = {key: request.GET.get(key, "") for key in ISSUE_FILTERS}
    filters.update({key: str(value) for key, value in extra.get("forced", {}).items()})
    page = Paginator(filtered_issues(request.user, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for issue in page.object_list:
        issue.link = field_link(issue)
    do_record_list_view(
        request.user,
        "quality_issue.view",
        list(page.object_list),
        page=request.path,
        params=request.GET,
        site=extra.get("site"),
    )
    kept = {
        key: value for key, value in filters.items() if value and key not in extra.get("forced", {})
    }
    return render(
        request,
        template,
        {
            **extra,
            "page": page,
            "filters": filters,
            "query": urlencode(kept),
            "statuses": IssueStatus.choices,
            "severities": Severity.choices,
            "rules": _rules(),
            "summary": open_issue_summary(request.user),
            "can_run": can_run_jobs(request.user),
            "can_accept": can_accept_issues(request.user),
        },
    )


def _rules() -> list[object]:
    try:
        return list(all_rules(rules_file(form_catalogue())))
    except QualityRulesError:
        return list(all_rules())


@quality_pages
def issues(request: HttpRequest) -> HttpResponse:
    return _issue_list(request, "quality/issues.html", {})


@quality_pages
def site(request: HttpRequest, code: str) -> HttpResponse:
    chosen = visible_site(request.user, code)
    return _issue_list(
        request, "quality/issues.html", {"site": chosen, "forced": {"site": chosen.code}}
    )


@quality_pages
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    found = issue_for(request.user, pk)
    do_record_view(request.user, "quality_issue.view", found, page=request.path, site=found.site)
    return render(
        request,
        "quality/issue.html",
        {
            "issue": found,
            "link": field_link(found),
            "details": found.details if can_see_details(request.user) else None,
            "can_accept": can_accept_issues(request.user),
        },
    )


@quality_pages
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    found = issue_for(request.user, pk)
    if not can_accept_issues(request.user):
        raise Http404("No such page.")
    try:
        do_accept_quality_issue(request.user, found, request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("quality:issue", pk=found.pk)
    messages.success(request, "Accepted as correct: later runs will leave it accepted.")
    return redirect("quality:issue", pk=found.pk)


@quality_pages
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    found = issue_for(request.user, pk)
    if not can_accept_issues(request.user):
        raise Http404("No such page.")
    do_reopen_quality_issue(request.user, found)
    messages.success(request, "The issue is open again.")
    return redirect("quality:issue", pk=found.pk)


@quality_pages
def rules(request: HttpRequest) -> HttpResponse:
    return render(request, "quality/rules.html", {"rules": _rules()})
