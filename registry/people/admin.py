from contextlib import suppress
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .admin_roles import AdministrationAdmin
from .models import ApiToken, Role, Site, SiteMembership, User
from .two_factor import do_reset_two_factor

# django-otp's own device pages would let an administrator see a person's key or make them a
# device; here devices are only set up by their owner and reset (action on People).
for device_model in (TOTPDevice, StaticDevice):
    with suppress(NotRegistered):
        admin.site.unregister(device_model)


class SiteMembershipInline(admin.TabularInline):
    model = SiteMembership
    extra = 0


@admin.register(User)
class RegistryUserAdmin(AdministrationAdmin, UserAdmin):
    list_display = ("username", "role", "is_active", "two_factor", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Registry", {"fields": ("role",)}))
    inlines = [SiteMembershipInline]
    actions = ["reset_two_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_two_factor=Exists(enrolled))

    @admin.display(boolean=True, description="two-factor", ordering="has_two_factor")
    def two_factor(self, user: User) -> bool:
        return bool(getattr(user, "has_two_factor", False))

    @admin.action(description="Reset two-factor sign-in (lost phone: they set it up again)")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        people = list(queryset)
        for person in people:
            do_reset_two_factor(request.user, person)  # type: ignore[arg-type]
        self.message_user(request, (
            f"Two-factor sign-in reset for {', '.join(p.username for p in people)}: each sets "
            f"up an authenticator app again at their next sign-in."), messages.SUCCESS)

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
