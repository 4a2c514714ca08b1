"""Pages of this app, mounted under /statistics/ by registry/urls.py."""

from django.urls import path

from . import views

app_name = "statistics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tables/", views.tables, name="tables"),
    path("download.csv", views.download, name="csv"),
]
