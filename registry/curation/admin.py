"""Data queries for curators in the admin: the list across sites, each thread, close and re-open.

The rest of the curators' admin registers from here too: the review of submissions, quality
triage and patients' audit trails. They sit in this app because they act on the apps below it
(submissions, quality, patients), which import nothing of curation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from registry.audit.reads import AuditedReads, do_record_view
from registry.people.access import can_curate
from registry.people.admin_roles import CurationAdmin

from . import patient_admin, quality_admin, submission_admin  # noqa: F401  (register their pages)
from .models import DataQuery
from .selectors import visible_data_queries
from .services import do_close_data_query, do_reopen_data_query


@admin.register(DataQuery)
class DataQueryAdmin(AuditedReads, CurationAdmin):
    list_display = ("submission", "site", "field", "status", "opened_by", "updated_at")
    list_filter = ("status", "submission__patient__site", "submission__form")
    list_select_related = ("submission__patient__site", "submission__form", "opened_by")
    search_fields = ("submission__patient__pseudonym", "field")
    view_action = "data_query.view"

    @admin.display(description="site", ordering="submission__patient__site__code")
    def site(self, query: DataQuery) -> str:
        return query.submission.patient.site.code

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/close/",
                view(require_POST(self.close_view)),
                name="curation_dataquery_close",
            ),
            path(
                "<int:pk>/reopen/",
                view(require_POST(self.reopen_view)),
                name="curation_dataquery_reopen",
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
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        query = get_object_or_404(
            visible_data_queries(request.user),
            pk=object_id,
        )
        do_record_view(
            request.user,
            "data_query.view",
            query,
            page=request.path,
            site=query.submission.patient.site,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Data query on {query.submission} · {query.field}",
            "query": query,
            "thread": query.messages.select_related("author"),
        }
        return TemplateResponse(request, "admin/curation/dataquery/thread.html", context)

    def _act(
        self,
        request: HttpRequest,
        pk: int,
        action: Callable[[DataQuery, str], DataQuery],
        done: str,
    ) -> HttpResponse:
        query = get_object_or_404(DataQuery, pk=pk)
        try:
            action(query, request.POST.get("text", ""))
        except (ValidationError, PermissionDenied) as error:
            for message in getattr(error, "messages", [str(error)]):
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:curation_dataquery_change", args=[pk]))

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda q, text: do_close_data_query(request.user, q, text),
            "The query is closed.",
        )

    def reopen_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._act(
            request,
            pk,
            lambda q, text: do_reopen_data_query(request.user, q, text),
            "The query is open again.",
        )
