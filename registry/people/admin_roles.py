"""Who sees what in the Django admin, by registry role rather than Django's model permissions.

Coordinators and researchers are not staff and never reach the admin. Curators review data at
every site; administrators manage people, sites and tokens (and may do what curators do).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

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
        # Each administration page writes through its service (registry/people/services.py),
        # which checks and audits the write; a page that has none must not write at all.
        raise PermissionDenied(f"{type(self).__name__} has no service to write through.")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied("People, sites and tokens are never deleted.")
