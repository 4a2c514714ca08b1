"""Between the session and the pages: a session that ended (registry/people/sessions.py) is
signed out, and a signed-in person whose second step is due (registry/people/two_factor.py)
sees only the pages that let them take it."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from registry.database_unavailable import DatabaseUnavailableMiddleware

from .sessions import (
    LAST_SEEN_AT,
    LAST_SEEN_PRECISION_SECONDS,
    NOT_PAGES,
    SIGNED_IN_AT,
    ended_message,
    note_session_start,
    session_end_reason,
)
from .two_factor import second_step_due


class OutageAwareMiddleware(ABC):
    """A middleware that reads the session or the user before the view runs. An outage of the
    database there is answered as in a view (503 with Retry-After): Django hands a middleware's
    own exceptions to no process_exception."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.outage = DatabaseUnavailableMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.handle(request)
        except (OperationalError, InterfaceError) as error:
            response = self.outage.process_exception(request, error)
            if response is None:
                raise
            return response

    @abstractmethod
    def handle(self, request: HttpRequest) -> HttpResponse:
        """What the middleware does with the request (calling `get_response` to go on)."""


class SessionTimeoutMiddleware(OutageAwareMiddleware):
    """Ends a session that was idle or lasted too long (audited as a logout with its reason),
    and sends the person to the sign-in page, which says why."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            reason = session_end_reason(request, now)
            if reason is not None:
                # Read by the audit trail's logout receiver (registry/people/login_trail.py).
                request.logout_reason = reason  # type: ignore[attr-defined]
                logout(request)
                if request.path.startswith(NOT_PAGES):
                    return self.get_response(request)
                messages.info(request, ended_message(reason))
                target = request.get_full_path() if request.method == "GET" else request.path
                return redirect(f"{reverse('login')}?{urlencode({'next': target})}")
            if SIGNED_IN_AT not in request.session:
                # A session begun before these limits existed (or by a test's force_login).
                note_session_start(request)
            elif now - request.session.get(LAST_SEEN_AT, 0) >= LAST_SEEN_PRECISION_SECONDS:
                request.session[LAST_SEEN_AT] = int(now)
        return self.get_response(request)


# Scripts sign in with tokens (a browser session there is checked by the API's own
# authentication, VerifiedSessionAuthentication); static files hold nothing private.
OPEN_PREFIXES = ("/api/", "/redcap/")
OPEN_URL_NAMES = (
    "login",
    "logout",
    "health",
    "two_factor_enrol",
    "two_factor_verify",
    "admin:logout",
)


class TwoFactorMiddleware(OutageAwareMiddleware):
    @cached_property
    def open_paths(self) -> frozenset[str]:
        return frozenset(reverse(name) for name in OPEN_URL_NAMES)

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if (
            path in self.open_paths
            or path.startswith(OPEN_PREFIXES)
            or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")
        ):
            return self.get_response(request)
        due = second_step_due(request)
        if due is None:
            return self.get_response(request)
        target = request.get_full_path() if request.method == "GET" else path
        return redirect(f"{reverse(f'two_factor_{due}')}?{urlencode({'next': target})}")
