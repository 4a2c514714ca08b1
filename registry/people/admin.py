from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Site, SiteMembership, User


class SiteMembershipInline(admin.TabularInline):
    model = SiteMembership
    extra = 0


@admin.register(User)
class RegistryUserAdmin(UserAdmin):
    list_display = ("username", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Registry", {"fields": ("role",)}))
    inlines = [SiteMembershipInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    # The hash is useless to a person and the token itself is never stored.
    exclude = ("key_hash",)
    readonly_fields = ("user", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False
