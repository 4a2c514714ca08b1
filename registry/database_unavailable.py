"""A 503 with Retry-After, never a 500, while the database cannot be reached.

When PostgreSQL restarts, fails over or refuses connections (or SQLite's file cannot be opened
or stays locked), a request fails with an OperationalError or InterfaceError. That is not a
fault of the registry and usually lasts seconds, so the answer says so and says when to try
again: JSON for scripts (`/api/`, `/redcap/api/`), a plain page for browsers. Other database
errors (a statement or lock timeout, a missing table) are faults to look into and stay 500s.

The connection that broke is closed here, so the next request connects afresh; Django would
close it at the end of the request anyway, but not in every way of running a request.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# The write is lost unless it was being committed (or had been) when the connection broke.
REST_MESSAGE = (
    f"The database is not reachable right now. Try again in {RETRY_AFTER_SECONDS} seconds. "
    "What you sent was most likely not saved; a create sent again with the same client_uuid "
    "is never saved twice."
)
REDCAP_MESSAGE = (
    f"The database is not reachable right now. Try again in {RETRY_AFTER_SECONDS} seconds. "
    "What you sent was most likely not saved; export the records to check before sending new "
    "instances again."
)

# SQLite's primary result codes for a file that is locked beyond the busy timeout, that cannot
# be opened, or that the disk fails to read or write.
_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
}


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        _close_broken_connections()
        logger.warning(
            "The database is not reachable (%s): %s %s answered 503.",
            " ".join(str(exception).split()),
            request.method,
            request.path,
        )
        response = unavailable_response(request)
        # Logged above, as a warning: an outage is not a fault of the registry.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


def database_unavailable(exception: BaseException) -> bool:
    """Whether `exception` means the database could not be reached (or stopped answering)."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return False
    cause = exception.__cause__
    if isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode is not None:
        return cause.sqlite_errorcode & 0xFF in _SQLITE_UNAVAILABLE
    # The connection failed to open, or was lost (the server restarted, shut down or
    # terminated it): the driver has closed it. A timeout or a bad statement leaves it open.
    return any(_broken(connection) for connection in connections.all(initialized_only=True))


def _broken(connection: object) -> bool:
    raw = connection.connection  # type: ignore[attr-defined]
    return raw is None or bool(getattr(raw, "closed", False))


def _close_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and _broken(connection):
            connection.close()


def unavailable_response(request: HttpRequest) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/redcap/api/"):
        return JsonResponse({"error": REDCAP_MESSAGE}, status=503, headers=headers)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": REST_MESSAGE}, status=503, headers=headers)
    # Rendered without the request: its context would read the session from the database.
    page = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
    return HttpResponse(page, status=503, headers=headers)
