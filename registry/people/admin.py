"""People, sites and tokens in the admin. Every write goes through registry/people/services.py,
which checks it and audits it with the same action names as the shell commands and the API
(`context.via` = `admin`); the forms show the services' refusals beside their fields."""

from contextlib import suppress
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit_admin  # noqa: F401  (registers the audit trail's page)
from .admin_roles import AdministrationAdmin
from .models import ApiToken, Site, User
from .services import (
    do_create_site,
    do_create_user,
    do_revoke_api_token,
    do_set_password,
    do_update_api_token,
    do_update_site,
    do_update_user,
    role_and_sites_problems,
)
from .two_factor import do_reset_two_factor

VIA = "admin"

# Django's password page builds its form without the request; the service needs who acted.
_password_actor: ContextVar[User | None] = ContextVar("password_actor", default=None)


class PasswordSetForm(AdminPasswordChangeForm):
    """Django's form for someone's password, saved by the service, so that it is audited."""

    def save(self, commit: bool = True) -> User:
        password = (
            self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        )
        do_set_password(_password_actor.get(), self.user, password, via=VIA)
        return self.user  # type: ignore[no-any-return]


# django-otp's own device pages would let an administrator see a person's key or make them a
# device; here devices are only set up by their owner and reset (action on People).
for device_model in (TOTPDevice, StaticDevice):
    with suppress(NotRegistered):
        admin.site.unregister(device_model)


class _RoleAndSites(forms.ModelForm):
    """The role with the sites it needs, checked by the service's own rule before saving."""

    member_of = forms.ModelMultipleChoiceField(
        queryset=Site.objects.all(),
        required=False,
        label="Sites",
        widget=forms.CheckboxSelectMultiple,
        help_text="Coordinators see and enter the patients of these sites (at least one). "
        "Curators, researchers and administrators see every site.",
    )

    actor: User | None = None  # the administrator, set by the page (RegistryUserAdmin.get_form)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        role = cleaned.get("role")
        if role:
            sites = [site.code for site in cleaned.get("member_of") or ()]
            problems = role_and_sites_problems(
                role,
                sites,
                actor=self.actor,
                user=self.instance if self.instance.pk else None,
                is_active=cleaned.get("is_active", True),
            )
            for name, messages_ in problems.items():
                self.add_error("member_of" if name == "sites" else name, messages_)
        return cleaned


class UserAddForm(_RoleAndSites, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "role", "email")


class UserEditForm(_RoleAndSites, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("first_name", "last_name", "email", "role", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["member_of"].initial = list(self.instance.sites.all())


@admin.register(User)
class RegistryUserAdmin(AdministrationAdmin, UserAdmin):
    list_display = ("username", "role", "is_active", "two_factor", "last_login")
    list_filter = ("role", "is_active")
    form = UserEditForm
    add_form = UserAddForm
    change_password_form = PasswordSetForm
    # Django's staff, superuser, group and permission flags follow the role (services).
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Registry", {"fields": ("role", "member_of", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "role",
                    "member_of",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ()
    actions = ["reset_two_factor"]

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        token = _password_actor.set(request.user)  # type: ignore[arg-type]
        try:
            with transaction.atomic():
                return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        # The trail keeps the name people had when they acted: a name is not changed later.
        return (*self.readonly_fields, "username") if obj else self.readonly_fields

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
        self.message_user(
            request,
            (
                f"Two-factor sign-in reset for {', '.join(p.username for p in people)}: each sets "
                f"up an authenticator app again at their next sign-in."
            ),
            messages.SUCCESS,
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data = form.cleaned_data
        sites = [site.code for site in data["member_of"]]
        if change:
            do_update_user(
                request.user,
                User.objects.get(pk=obj.pk),  # type: ignore[arg-type]
                site_codes=sites,
                via=VIA,
                **{name: data[name] for name in UserEditForm.Meta.fields},
            )
            return
        password = data["password1"] if data.get("usable_password", "true") != "false" else None
        created = do_create_user(
            request.user,
            data["username"],
            data["role"],  # type: ignore[arg-type]
            site_codes=sites,
            password=password,
            email=data["email"],
            via=VIA,
        )
        # The admin goes on to log and show the object it passed in: make it the saved one.
        obj.pk, obj._state = created.pk, created._state

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The sites were saved by the service, with the rest."""


@admin.register(Site)
class SiteAdmin(AdministrationAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")
    fields = ("code", "name", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> Any:
        # Every pseudonym of the site's patients begins with its code.
        return ("code", "created_at") if obj else ("created_at",)

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        if change:
            do_update_site(
                request.user,
                Site.objects.get(pk=obj.pk),  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                via=VIA,
            )
            return
        created = do_create_site(
            request.user,
            form.cleaned_data["code"],  # type: ignore[arg-type]
            form.cleaned_data["name"],
            via=VIA,
        )
        obj.pk, obj._state = created.pk, created._state


@admin.register(ApiToken)
class ApiTokenAdmin(AdministrationAdmin):
    list_display = ("name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    # The hash is useless to a person and the token itself is never stored.
    fields = ("name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Tokens are made with `manage.py create_api_token` or the API, which show them once.
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        do_update_api_token(
            request.user,
            ApiToken.objects.get(pk=obj.pk),  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            via=VIA,
        )

    @admin.action(description="Revoke the selected tokens (they stop working at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        for token in tokens:
            do_revoke_api_token(request.user, token, via=VIA)  # type: ignore[arg-type]
        revoked = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
        self.message_user(request, revoked % {"count": len(tokens)}, messages.SUCCESS)
