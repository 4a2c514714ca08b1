"""Quality-issue triage for curators: accept as correct, send to the site, or mark resolved."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from registry.audit.reads import AuditedReads
from registry.people.admin_roles import CurationAdmin
from registry.quality.models import QualityIssue
from registry.quality.services import do_accept_quality_issue, do_resolve_quality_issue

from .services import do_send_quality_issue_to_site


@admin.register(QualityIssue)
class QualityIssueAdmin(AuditedReads, CurationAdmin):
    list_display = (
        "rule",
        "severity",
        "site",
        "patient",
        "submission",
        "field",
        "message",
        "status",
        "last_seen",
    )
    list_filter = ("status", "severity", "rule", "site")
    list_select_related = ("site", "patient", "submission__form", "submission__patient")
    search_fields = ("patient__pseudonym", "field", "message")
    actions = ["accept_as_correct", "send_to_site", "mark_resolved"]
    view_action = "quality_issue.view"

    @admin.action(description="Accept as correct (with a reason)")
    def accept_as_correct(
        self, request: HttpRequest, queryset: QuerySet[QualityIssue]
    ) -> HttpResponse | None:
        reason = request.POST.get("reason")
        if reason is None:
            # First step: ask for the reason on a page of its own.
            return TemplateResponse(
                request,
                "admin/quality/qualityissue/accept.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Accept quality issues as correct",
                    "issues": queryset,
                    "action": "accept_as_correct",
                },
            )
        self._each(
            request,
            queryset,
            lambda issue: do_accept_quality_issue(request.user, issue, reason),
            ("%(count)d issue accepted as correct.", "%(count)d issues accepted as correct."),
        )
        return None

    @admin.action(description="Send to the site as a data query")
    def send_to_site(self, request: HttpRequest, queryset: QuerySet[QualityIssue]) -> None:
        self._each(
            request,
            queryset,
            lambda issue: do_send_quality_issue_to_site(request.user, issue),
            ("%(count)d issue sent to its site.", "%(count)d issues sent to their sites."),
        )

    @admin.action(description="Mark resolved after a correction")
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[QualityIssue]) -> None:
        self._each(
            request,
            queryset,
            lambda issue: do_resolve_quality_issue(request.user, issue),
            ("%(count)d issue resolved.", "%(count)d issues resolved."),
        )

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[QualityIssue],
        action: Any,
        done_sentences: tuple[str, str],
    ) -> None:
        succeeded = 0
        for issue in queryset:
            try:
                action(issue)
            except (ValidationError, PermissionDenied) as error:
                for message in getattr(error, "messages", [str(error)]):
                    self.message_user(request, f"{issue}: {message}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            singular, plural = done_sentences
            done = ngettext(singular, plural, succeeded) % {"count": succeeded}
            self.message_user(request, done, messages.SUCCESS)
