"""The REST API, version 1. Apps that own API views list them in their own api_urls.py."""

from django.urls import include, path

urlpatterns = [
    path("", include("registry.statistics.api_urls")),
    path("", include("registry.quality.api_urls")),
    path("", include("registry.jobs.api_urls")),
]
