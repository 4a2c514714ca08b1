from django.contrib import admin

from registry.people.admin_roles import CurationAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(CurationAdmin):
    """Read-only for curators and administrators: searched and read, never edited or deleted."""

    list_display = ("at", "actor_username", "action", "object_type", "object_label", "site")
    list_filter = ("action", "object_type", "site")
    search_fields = ("actor_username", "object_id", "object_label", "request_id")
    date_hierarchy = "at"
