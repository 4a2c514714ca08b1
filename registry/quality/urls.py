"""Pages of this app, mounted under /quality/ by registry/urls.py."""

from django.urls import URLPattern

app_name = "quality"
urlpatterns: list[URLPattern] = []
