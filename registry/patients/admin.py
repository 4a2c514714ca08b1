from django.contrib import admin

from registry.people.admin_roles import CurationAdmin

from .models import Patient


@admin.register(Patient)
class PatientAdmin(CurationAdmin):
    list_display = ("pseudonym", "site", "sex", "year_of_birth", "created_at")
    list_filter = ("site", "sex")
    search_fields = ("pseudonym",)
    readonly_fields = ("pseudonym", "site", "created_at", "created_by")
