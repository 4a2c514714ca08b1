"""The registry's URLs plus one trivial view: the limit the HTTP benchmark compares with.

The trivial view passes through the same server, middleware and database connection handling
as the registry's views and does nothing else, so the gap between the two is the registry's
own work. It exists only here, never in the registry's URLs.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def trivial(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/trivial/", trivial, name="bench-trivial"),
    path("", include("registry.urls")),
]
