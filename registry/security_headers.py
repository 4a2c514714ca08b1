"""The headers Django does not set itself: `Permissions-Policy` on every answer.

Django's SecurityMiddleware sends nosniff, the referrer policy and the opener policy,
XFrameOptionsMiddleware the frame refusal, django-csp the Content Security Policy; this one adds
the browser features no page of the registry uses (camera, microphone, location...), switched
off so that a script that got in could not use them either. Placed early in MIDDLEWARE, so that
answers made by later middleware (a 503 while the database is down) carry it too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.permissions_policy: str = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response
