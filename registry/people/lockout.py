"""The page a locked-out person sees, saying until when (django-axes' AXES_LOCKOUT_CALLABLE).

The policy itself is in the AXES_* settings and docs/security.md: a user name is locked after
AXES_FAILURE_LIMIT wrong passwords, for AXES_COOLOFF_TIME from the failure that locked it;
attempts while it is locked are not counted, so nobody can make the lock last longer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def lockout_ends_at(request: HttpRequest, username: str) -> datetime | None:
    """When the lock on `username` lifts, by django-axes' own rule: failures count while their
    record's latest failure is younger than the cool-off, so the lock lifts when the newest
    records no longer add up to the limit."""
    cool_off = get_cool_off(request)
    if cool_off is None or not username:
        return None
    limit = get_failure_limit(request, {"username": username})
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    counted = 0
    for attempt in AccessAttempt.objects.filter(
        username=username, attempt_time__gte=now - cool_off
    ).order_by("-attempt_time"):
        counted += attempt.failures_since_start
        if counted >= limit:
            ends: datetime = attempt.attempt_time + cool_off
            return ends
    return None


def locked_out_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    username = get_client_username(request, credentials) or ""
    ends = lockout_ends_at(request, username)
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    minutes_left = max(1, round((ends - now).total_seconds() / 60)) if ends else None
    cool_off = get_cool_off(request)
    return render(
        request,
        "registration/locked_out.html",
        {
            "username": username,
            "failure_limit": get_failure_limit(request, credentials),
            "locked_until": ends,
            "minutes_left": minutes_left,
            "cool_off_minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
        },
        status=429,
    )
