"""URLs of the coordinator pages.

The record pages live in the `web` namespace (`web:patient`, `web:submission`, ...), which other
parts of the registry link to. The account pages (`login`, `logout`, `password_change`) and
`home` keep Django's plain names, which settings and the base template use.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

# Not a module-level `app_name`: that would put the account pages in the namespace too.
NAMESPACE = "web"

record_patterns = [
    path("", views.home, name="dashboard"),
    path("site/", views.choose_site, name="choose_site"),
    path("enrol/", views.enrol, name="enrol"),
    path("find/", views.find_patient, name="find_patient"),
    path("patients/<str:pseudonym>/", views.patient, name="patient"),
    path("patients/<str:pseudonym>/<str:form>/new/", views.new_instance, name="new_instance"),
    path(
        "patients/<str:pseudonym>/<str:form>/<int:instance>/", views.submission, name="submission"
    ),
    path("queries/", views.queries, name="queries"),
    path("queries/<int:query_id>/", views.query, name="query"),
    path("ontology/hp/", views.hpo_terms, name="hpo_terms"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("health/", views.health, name="health"),
    path("", include((record_patterns, NAMESPACE))),
]
