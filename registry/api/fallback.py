"""What a path under /api/v1/ that names nothing answers: a JSON 404, as every other API error.

Django's own 404 is an HTML page, and a path that does not fit its route at all (a word where
an id goes: `/api/v1/submissions/abc/`) never reaches a view that could answer otherwise.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt


# As DRF's views are: it changes nothing, and a token client's POST should get the 404, not
# an HTML CSRF page.
@csrf_exempt
def unknown_path(request: HttpRequest, path: str) -> JsonResponse:
    return JsonResponse(
        {
            "detail": f"There is nothing at {request.path}; the API's paths are listed at "
            "/api/docs/."
        },
        status=404,
    )
