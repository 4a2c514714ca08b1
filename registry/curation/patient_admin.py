from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from registry.audit.exports import audit_csv_response
from registry.audit.reads import AuditedReads, do_record_view
from registry.audit.services import record_event
from registry.patients.models import Patient
from registry.patients.selectors import visible_patients
from registry.people.access import can_curate
from registry.people.admin_roles import CurationAdmin
from registry.submissions.history import patient_history


@admin.register(Patient)
class PatientAdmin(AuditedReads, CurationAdmin):
    list_display = ("pseudonym", "site", "sex", "year_of_birth", "created_at")
    list_filter = ("site", "sex")
    search_fields = ("pseudonym",)
    list_select_related = ("site",)
    view_action = "patient.view"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/trail.csv",
                self.admin_site.admin_view(self.trail_csv_view),
                name="patients_patient_trail_csv",
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
        patient = get_object_or_404(visible_patients(request.user), pk=object_id)
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        # The patient's page in the admin is their audit trail; its CSV is "audit.export".
        do_record_view(request.user, "audit.view", patient, page=request.path, site=patient.site)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Audit trail of {patient}",
            "patient": patient,
            "submissions": patient.submissions.select_related("form", "form_version"),
            "history": patient_history(patient),
        }
        return TemplateResponse(request, "admin/patients/patient/trail.html", context)

    def trail_csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        patient = get_object_or_404(visible_patients(request.user), pk=pk)
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        events = [entry.event for entry in patient_history(patient, with_reads=True)]
        record_event(
            request.user,
            "audit.export",
            patient,
            site=patient.site,
            context={"events": len(events)},
        )
        return audit_csv_response(events, f"audit-trail-{patient.pseudonym}.csv")
