"""Exports and the REDCap-compatible endpoint, mounted under /redcap/ by registry/urls.py."""

from django.urls import path

from .redcap import redcap_api

app_name = "exchange"
urlpatterns = [
    # REDCap clients (PyCap, REDCapR) insist that the URL ends in /api/.
    path("api/", redcap_api, name="redcap-api"),
]
