"""REST API routes of this app, mounted under /api/v1/ by registry/api/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("statistics/snapshots/", api.SnapshotList.as_view(), name="api-statistics-snapshots"),
    path(
        "statistics/snapshots/latest/", api.LatestSnapshot.as_view(), name="api-statistics-latest"
    ),
    path(
        "statistics/snapshots/<int:pk>/",
        api.SnapshotDetail.as_view(),
        name="api-statistics-snapshot",
    ),
]
