"""The two-factor pages. Plain names (`two_factor_verify`, ...), as the other account pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.account, name="two_factor"),
    path("enrol/", views.enrol, name="two_factor_enrol"),
    path("verify/", views.verify, name="two_factor_verify"),
    path("remove/", views.remove, name="two_factor_remove"),
]
