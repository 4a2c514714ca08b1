"""Exports and the REDCap-compatible endpoint."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
