"""The door between the password and the pages: a signed-in person whose second step is due
(registry/people/two_factor.py) sees only the pages that let them take it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .two_factor import second_step_due

# Scripts sign in with tokens (a browser session there is checked by the API's own
# authentication, VerifiedSessionAuthentication); static files hold nothing private.
OPEN_PREFIXES = ("/api/", "/redcap/")
OPEN_URL_NAMES = ("login", "logout", "health", "two_factor_enrol", "two_factor_verify",
                  "admin:logout")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> frozenset[str]:
        return frozenset(reverse(name) for name in OPEN_URL_NAMES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if (path in self.open_paths or path.startswith(OPEN_PREFIXES)
                or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")):
            return self.get_response(request)
        due = second_step_due(request)
        if due is None:
            return self.get_response(request)
        target = request.get_full_path() if request.method == "GET" else path
        return redirect(f"{reverse(f'two_factor_{due}')}?{urlencode({'next': target})}")
