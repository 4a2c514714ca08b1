"""Form versions for curators: what exists, how much data each holds, what changed, and a
deliberate, confirmed publication of the new versions in `forms/` (never automatic on edit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from registry.formengine.compare import compare_versions
from registry.people.access import can_curate
from registry.people.admin_roles import CurationAdmin

from .models import FormDefinition, FormVersion
from .publishing import pending_publication
from .selectors import schema_of
from .services import FormSyncError, do_sync_forms, read_form_files

FORMS_ROOT = Path(settings.BASE_DIR) / "forms"


@admin.register(FormDefinition)
class FormDefinitionAdmin(CurationAdmin):
    list_display = ("name", "title", "repeatable", "version_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormDefinition]:
        return super().get_queryset(request).annotate(n_versions=Count("versions"))

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, form: FormDefinition) -> int:
        return form.n_versions  # type: ignore[attr-defined]


@admin.register(FormVersion)
class FormVersionAdmin(CurationAdmin):
    list_display = ("form", "number", "published_at", "published_by", "submission_count")
    list_filter = ("form",)
    change_list_template = "admin/crfs/formversion/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormVersion]:
        return (
            super().get_queryset(request)
            .select_related("form", "published_by")
            .annotate(n_submissions=Count("submissions"))
        )

    @admin.display(description="submissions", ordering="n_submissions")
    def submission_count(self, version: FormVersion) -> int:
        return version.n_submissions  # type: ignore[attr-defined]

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("publish/", view(self.publish_view), name="crfs_formversion_publish"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        version = get_object_or_404(FormVersion.objects.select_related("form"), pk=object_id)
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        others = list(version.form.versions.exclude(pk=version.pk).order_by("number"))
        against_pk = request.GET.get("against")
        against = next((v for v in others if str(v.pk) == against_pk), None)
        if against is None:
            against = next((v for v in reversed(others) if v.number < version.number), None)
        diff = None
        if against is not None:
            older, newer = sorted([against, version], key=lambda v: v.number)
            diff = compare_versions(schema_of(older), schema_of(newer))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(version),
            "version": version,
            "schema": schema_of(version),
            "others": others,
            "against": against,
            "diff": diff,
            "submission_count": version.submissions.count(),
        }
        return TemplateResponse(request, "admin/crfs/formversion/detail.html", context)

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        try:
            files = read_form_files(FORMS_ROOT)
            plan = pending_publication(files)
            problems = plan.problems
        except FormSyncError as error:
            files, plan, problems = [], None, error.problems
        if request.method == "POST" and plan is not None and not problems:
            if request.POST.get("confirm") != "yes":
                messages.error(request, "Tick the box to confirm that you checked the changes.")
            else:
                try:
                    report = do_sync_forms(request.user, files)
                except FormSyncError as error:
                    problems = error.problems
                else:
                    messages.success(
                        request,
                        f"Published {', '.join(report.published) or 'nothing (all up to date)'}.",
                    )
                    return HttpResponseRedirect(reverse("admin:crfs_formversion_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Publish new form versions",
            "plan": plan,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/crfs/formversion/publish.html", context)
