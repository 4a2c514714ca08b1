"""The registry's admin site: Django's, opened only to curators and administrators who have
passed both steps of signing in.

The middleware (registry/people/middleware.py) already sends anyone whose second step is due
to take it; the site checks again, so that no admin page depends on the middleware's order.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .access import can_curate
from .two_factor import second_step_due


class RegistryAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return bool(
            super().has_permission(request)
            and can_curate(request.user)
            and second_step_due(request) is None
        )
