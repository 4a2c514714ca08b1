"""Pages of this app, mounted under /statistics/ by registry/urls.py."""

from django.urls import URLPattern

app_name = "statistics"
urlpatterns: list[URLPattern] = []
