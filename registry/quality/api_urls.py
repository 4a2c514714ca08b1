"""REST API routes of this app, mounted under /api/v1/ by registry/api/urls.py."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
