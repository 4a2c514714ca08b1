"""The audit trail in the admin. Here, not in the audit app: who may read it is a matter of
roles, and the audit app sits below people."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from registry.audit.exports import audit_csv_response
from registry.audit.models import AuditEvent
from registry.audit.reads import AuditedReads
from registry.audit.services import record_event

from .admin_roles import CurationAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedReads, CurationAdmin):
    """Read-only for curators and administrators: searched and read, never edited or deleted."""

    list_display = ("at", "actor_username", "action", "object_type", "object_label", "site")
    list_filter = ("action", "object_type", "site")
    search_fields = ("actor_username", "object_id", "object_label", "request_id")
    date_hierarchy = "at"
    list_select_related = ("site",)
    actions = ["export_csv"]
    # The trail holds record-level data (every change's values), so reading it is audited too.
    view_action = "audit.view"

    @admin.action(description="Export the selected events as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> StreamingHttpResponse:
        events = queryset.select_related("site").order_by("at", "id")
        record_event(request.user, "audit.export", context={"events": events.count()})
        return audit_csv_response(events.iterator(chunk_size=2000), "audit-trail.csv")
