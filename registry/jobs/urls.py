"""Pages of this app, mounted under /jobs/ by registry/urls.py."""

from django.urls import URLPattern

app_name = "jobs"
urlpatterns: list[URLPattern] = []
