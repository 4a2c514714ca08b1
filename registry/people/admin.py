from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from .admin_roles import AdministrationAdmin
from .models import ApiToken, Role, Site, SiteMembership, User


class SiteMembershipInline(admin.TabularInline):
    model = SiteMembership
    extra = 0


@admin.register(User)
class RegistryUserAdmin(AdministrationAdmin, UserAdmin):
    list_display = ("username", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Registry", {"fields": ("role",)}))
    inlines = [SiteMembershipInline]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The role decides admin access; Django's flags follow it rather than being set by hand.
        obj.is_staff = obj.role in (Role.CURATOR, Role.ADMIN)
        obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(Site)
class SiteAdmin(AdministrationAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(AdministrationAdmin):
    list_display = ("name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    # The hash is useless to a person and the token itself is never stored.
    exclude = ("key_hash",)
    readonly_fields = ("user", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Tokens are made with `manage.py create_api_token` or the API, which show them once.
        return False
