"""The curators' review of submissions in the admin: a queue, a side-by-side view, and actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from registry.audit.reads import AuditedReads, do_record_view
from registry.crfs.selectors import schema_of
from registry.formengine.display import display_value
from registry.people.admin_roles import CurationAdmin
from registry.quality.models import IssueStatus
from registry.quality.selectors import visible_issues
from registry.submissions.history import submission_history
from registry.submissions.models import Status, Submission
from registry.submissions.selectors import visible_submissions

from .models import QueryStatus
from .review import (
    do_lock_submission,
    do_lock_submissions,
    do_unlock_submission,
    do_verify_submission,
    do_verify_submissions,
)
from .services import do_open_data_query


class ReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("awaiting", "Complete, awaiting verification"),
            ("verified", "Verified"),
            ("locked", "Locked"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Submission]) -> QuerySet:
        if self.value() == "awaiting":
            return queryset.filter(status=Status.COMPLETE, verified_at__isnull=True)
        if self.value() == "verified":
            return queryset.filter(verified_at__isnull=False)
        if self.value() == "locked":
            return queryset.filter(locked=True)
        return queryset


class LastChangedFilter(admin.SimpleListFilter):
    title = "last changed"
    parameter_name = "changed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("7", "More than a week ago"),
            ("30", "More than a month ago"),
            ("90", "More than three months ago"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Submission]) -> QuerySet:
        if self.value() in {"7", "30", "90"}:
            cutoff = timezone.now() - timedelta(days=int(self.value()))
            return queryset.filter(updated_at__lt=cutoff)
        return queryset


@admin.register(Submission)
class SubmissionAdmin(AuditedReads, CurationAdmin):
    list_display = (
        "patient",
        "site",
        "form",
        "version",
        "instance",
        "status",
        "verified",
        "locked",
        "updated_at",
    )
    list_filter = (
        ReviewFilter,
        "patient__site",
        "form",
        "form_version",
        "status",
        LastChangedFilter,
    )
    list_select_related = ("patient__site", "form", "form_version")
    search_fields = ("patient__pseudonym",)
    ordering = ("updated_at",)
    actions = ["verify_selected", "lock_selected"]
    view_action = "submission.view"

    @admin.display(description="site", ordering="patient__site__code")
    def site(self, submission: Submission) -> str:
        return submission.patient.site.code

    @admin.display(description="version", ordering="form_version__number")
    def version(self, submission: Submission) -> str:
        return f"v{submission.form_version.number}"

    @admin.display(description="verified", boolean=True)
    def verified(self, submission: Submission) -> bool:
        return submission.verified_at is not None

    @admin.action(description="Verify the selected submissions")
    def verify_selected(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        self._bulk(
            request,
            queryset,
            do_verify_submissions,
            ("%(count)d submission verified.", "%(count)d submissions verified."),
        )

    @admin.action(description="Lock the selected submissions")
    def lock_selected(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        self._bulk(
            request,
            queryset,
            do_lock_submissions,
            ("%(count)d submission locked.", "%(count)d submissions locked."),
        )

    def _bulk(
        self,
        request: HttpRequest,
        queryset: QuerySet[Submission],
        action: Any,
        done_sentences: tuple[str, str],
    ) -> None:
        submissions = list(queryset)
        problems = action(request.user, submissions)
        done = len(submissions) - len(problems)
        singular, plural = done_sentences
        self.message_user(
            request, ngettext(singular, plural, done) % {"count": done}, messages.SUCCESS
        )
        for problem in problems:
            self.message_user(request, problem, messages.WARNING)

    def get_urls(self) -> list[Any]:
        review = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/verify/",
                review(require_POST(self.verify_view)),
                name="submissions_submission_verify",
            ),
            path(
                "<int:pk>/lock/",
                review(require_POST(self.lock_view)),
                name="submissions_submission_lock",
            ),
            path(
                "<int:pk>/unlock/",
                review(require_POST(self.unlock_view)),
                name="submissions_submission_unlock",
            ),
            path(
                "<int:pk>/query/",
                review(require_POST(self.open_query_view)),
                name="submissions_submission_query",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        submission = get_object_or_404(
            visible_submissions(request.user).select_related("patient__site", "verified_by"),
            pk=object_id,
        )
        if not self.has_view_permission(request, submission):
            return HttpResponseRedirect(reverse("admin:index"))
        do_record_view(
            request.user,
            "submission.view",
            submission,
            page=request.path,
            site=submission.patient.site,
        )
        schema = schema_of(submission.form_version)
        issues = visible_issues(request.user).filter(submission=submission, status=IssueStatus.OPEN)
        queries = submission.queries.prefetch_related("messages__author").order_by("-opened_at")
        flagged = {issue.field for issue in issues} | {
            query.field for query in queries if query.status != QueryStatus.CLOSED
        }
        rows = [
            {
                "section": field.section,
                "name": field.name,
                "label": field.label,
                "value": display_value(field, submission.data.get(field.name)),
                "code": submission.data.get(field.name),
                "flagged": field.name in flagged,
            }
            for field in schema.fields
            if field.stores_data
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review {submission}",
            "submission": submission,
            "schema": schema,
            "rows": rows,
            "issues": issues,
            "queries": queries,
            "history": submission_history(submission),
            "open_query_count": sum(q.status != QueryStatus.CLOSED for q in queries),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/submissions/submission/review.html", context)

    def _act(self, request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
        submission = get_object_or_404(Submission, pk=pk)
        try:
            action(submission)
        except (ValidationError, PermissionDenied) as error:
            for message in getattr(error, "messages", [str(error)]):
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(
                request, done.format(submission=submission.display_name), messages.SUCCESS
            )
        return HttpResponseRedirect(
            reverse("admin:submissions_submission_change", args=[submission.pk])
        )

    def verify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda s: do_verify_submission(request.user, s),
            "{submission} is verified.",
        )

    def lock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._act(
            request, pk, lambda s: do_lock_submission(request.user, s), "{submission} is locked."
        )

    def unlock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        reason = request.POST.get("reason", "")
        return self._act(
            request,
            pk,
            lambda s: do_unlock_submission(request.user, s, reason),
            "{submission} is unlocked.",
        )

    def open_query_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        field, text = request.POST.get("field", ""), request.POST.get("text", "")
        return self._act(
            request,
            pk,
            lambda s: do_open_data_query(request.user, s, field, text),
            "{submission} has a new data query.",
        )
