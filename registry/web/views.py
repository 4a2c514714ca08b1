from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from registry.patients.selectors import visible_patients
from registry.people.access import sites_in_scope


@login_required
def home(request: HttpRequest) -> HttpResponse:
    sites = sites_in_scope(request.user)
    return render(
        request,
        "web/home.html",
        {"sites": sites, "patient_count": visible_patients(request.user).count()},
    )


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and the container health check: answers only if the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
