"""Who sees what in the Django admin, by registry role rather than Django's model permissions.

Coordinators and researchers are not staff and never reach the admin. Curators review data at
every site; administrators manage people, sites and tokens (and may do what curators do).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from registry.audit.services import record_event

from .access import can_curate
from .models import Role


def is_administrator(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)


class CurationAdmin(admin.ModelAdmin):
    """Read-only to curators and administrators: changes go through the actions and services."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_curate(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_curate(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AdministrationAdmin(admin.ModelAdmin):
    """People, sites and tokens: administrators only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_administrator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # People and sites are deactivated, never deleted: the audit trail points at them.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if "password" not in name]
        record_event(
            request.user,
            f"{_action_noun(obj)}.{'update' if change else 'create'}",
            obj,
            changes={
                name: [_plain(form.initial.get(name)) if change else None,
                       _plain(form.cleaned_data.get(name))]
                for name in changed
            },
            context={"via": "admin"},
        )


def _action_noun(obj: Any) -> str:
    """The object as audit actions name it: `api_token`, as the services do, not `apitoken`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(obj).__name__).lower()


def _plain(value: Any) -> Any:
    """Form values as JSON the audit trail can keep (model instances by their text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "__iter__"):
        return [str(item) for item in value]
    return str(value)
