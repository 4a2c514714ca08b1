"""REST API routes of this app, mounted under /api/v1/ by registry/api/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("jobs/runs/", api.RunList.as_view(), name="api-jobs-runs"),
    path("jobs/runs/<int:pk>/", api.RunDetail.as_view(), name="api-jobs-run"),
    path("jobs/runs/<int:pk>/rerun/", api.RunRerun.as_view(), name="api-jobs-rerun"),
]
