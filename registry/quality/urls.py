"""Pages of this app, mounted under /quality/ by registry/urls.py."""

from django.urls import path

from . import views

app_name = "quality"
urlpatterns = [
    path("", views.issues, name="issues"),
    path("rules/", views.rules, name="rules"),
    path("sites/<str:code>/", views.site, name="site"),
    path("issues/<int:pk>/", views.issue, name="issue"),
    path("issues/<int:pk>/accept/", views.accept, name="accept"),
    path("issues/<int:pk>/reopen/", views.reopen, name="reopen"),
]
