"""Pages of this app, mounted under /jobs/ by registry/urls.py."""

from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.runs, name="runs"),
    path("start/", views.start, name="start"),
    path("<int:pk>/", views.run, name="run"),
    path("<int:pk>/rerun/", views.rerun, name="rerun"),
]
