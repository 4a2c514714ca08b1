"""Refuse text with NUL characters at the door, whichever page or API it is sent to.

No answer to any question in the registry contains a NUL, and PostgreSQL cannot store or even
compare one: left to reach a query it would turn a typing accident into a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

# The raw character, and the way URLs and JSON spell it.
_NUL_SPELLINGS = (b"\x00", b"%00", b"\\u0000")


class RefuseNulCharactersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = (
                "The request contains a NUL character (\\0), which no field of the "
                "registry accepts. Remove it and send the request again."
            )
            if request.path.startswith("/api/"):
                # As every other error of the REST API (and its OpenAPI schema) has it.
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    where = [
        request.META.get("QUERY_STRING", "").encode("latin-1", "replace"),
        request.path.encode("utf-8", "replace"),
    ]
    # File uploads may hold any bytes; every other body is text. The REST API's JSON parser
    # (registry/rest/parsers.py) and the REDCap endpoint refuse NUL characters themselves, naming
    # the field, and the REDCap one in REDCap's shape.
    own_check = request.path.startswith("/redcap/api/") or (
        request.path.startswith("/api/") and request.content_type == "application/json"
    )
    if not (request.content_type or "").startswith("multipart/") and not own_check:
        # A body over Django's limit is left to the view: the REDCap endpoint reads large
        # imports itself and refuses NUL characters as it parses them; any other view refuses
        # a body this large anyway.
        with suppress(RequestDataTooBig):
            where.append(request.body)
    return any(spelling in part for part in where for spelling in _NUL_SPELLINGS)
