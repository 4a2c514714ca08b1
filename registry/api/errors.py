"""How the REST API answers errors: a body naming each field, and the right status code.

DRF already turns its own exceptions, Http404 and PermissionDenied into responses. This adds
the registry's domain errors, raised by services the views call:

- django ValidationError -> 400 with field -> messages (the form engine's messages);
- StaleSubmission -> 412 (the If-Match row version is out of date; nothing changed);
- SubmissionLocked -> 423 (a curator locked it);
- Throttled -> 429 with Retry-After and a sentence saying when to try again;
- JobQueueUnavailable -> 503 with Retry-After (Redis is down; the run is recorded failed).

An unreachable database is left to registry/database_unavailable.py (503 with Retry-After), as
for every page: DRF hands the exceptions it does not know on to the middleware.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.exchange.export_spec import ExportError
from registry.jobs.services import JobQueueUnavailable
from registry.rest.throttling import TokenRateThrottle, too_many_requests_message
from registry.submissions.services import StaleSubmission, SubmissionLocked

# Seconds a client is asked to wait before starting a job again when the queue is down.
QUEUE_RETRY_AFTER = 60

# Export errors name REDCap's parameters; the REST API calls them by its own names.
_REST_PARAMETERS = {
    "forms": "form",
    "fields": "field",
    "filterLogic": "filter",
    "dateRangeBegin": "changed_since",
    "dateRangeEnd": "changed_until",
}


def validation_body(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: list(messages) for field, messages in error.message_dict.items()}
    return {"detail": list(error.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ExportError):
        parameter = _REST_PARAMETERS.get(exc.parameter, exc.parameter)
        return Response({parameter: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleSubmission):
        return Response(
            {"detail": str(exc), "row_version": exc.current_row_version},
            status=status.HTTP_412_PRECONDITION_FAILED,
            headers={"ETag": f'"{exc.current_row_version}"'},
        )
    if isinstance(exc, SubmissionLocked):
        return Response({"detail": str(exc), "code": "locked"}, status=status.HTTP_423_LOCKED)
    if isinstance(exc, JobQueueUnavailable):
        return Response(
            {"detail": str(exc), "run": exc.run.pk},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(QUEUE_RETRY_AFTER)},
        )
    if isinstance(exc, Throttled):
        exc.detail = too_many_requests_message(TokenRateThrottle(), exc.wait)
    return drf_exception_handler(exc, context)
