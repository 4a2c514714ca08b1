"""Signed-in sessions end after SESSION_IDLE_TIMEOUT_SECONDS without a request (30 minutes),
and SESSION_COOKIE_AGE after signing in (8 hours) however busy they are.

Django alone gives neither: its cookie age starts again at every write of the session, so a
session written now and then would never reach its end. The session keeps when it signed in and
when it was last used; the latter is written at most once a minute, not on every request, so
the idle end is exact to within that minute.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
# How stale the last-seen time may get before a request writes it again.
LAST_SEEN_PRECISION_SECONDS = 60
# The paths of scripts and machines: they are told by their status code, not sent to a page.
NOT_PAGES = ("/api/", "/redcap/")


def note_session_start(request: HttpRequest) -> None:
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


def session_end_reason(request: HttpRequest, now: float) -> str | None:
    """ "idle" or "expired" if the signed-in session of `request` is over, else None."""
    session = request.session
    last_seen = session.get(LAST_SEEN_AT)
    signed_in = session.get(SIGNED_IN_AT)
    if last_seen is not None and now - last_seen >= settings.SESSION_IDLE_TIMEOUT_SECONDS:
        return "idle"
    if signed_in is not None and now - signed_in >= settings.SESSION_COOKIE_AGE:
        return "expired"
    return None


def ended_message(reason: str) -> str:
    if reason == "idle":
        minutes = max(1, round(settings.SESSION_IDLE_TIMEOUT_SECONDS / 60))
        return (
            f"You were signed out after {minutes} minutes without activity, to protect "
            f"the records on your screen. Sign in again to go on."
        )
    hours = max(1, round(settings.SESSION_COOKIE_AGE / 3600))
    return f"You were signed out: a session lasts at most {hours} hours. Sign in again to go on."
