import pytest

from registry.audit.models import AuditEvent
from registry.people.models import Role
from tests.factories import DEFAULT_PASSWORD, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", ["/enrol/", "/queries/", "/patients/SITEA-1/", "/password/"])
def test_every_page_requires_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_home_is_the_dashboard_of_the_coordinators_only_site(client, coordinator_a, site_a, site_b):
    PatientFactory(site=site_a, pseudonym="SITEA-1")
    PatientFactory(site=site_b, pseudonym="SITEB-1")
    client.force_login(coordinator_a)
    page = client.get("/").content.decode()
    assert "Records at SITEA" in page and "SITEA-1" in page
    assert "SITEB" not in page


def test_researchers_are_told_record_level_data_is_not_for_them(client, researcher, site_a):
    PatientFactory(site=site_a, pseudonym="SITEA-1")
    client.force_login(researcher)
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Record-level pages are for site coordinators and curators" in page
    assert "SITEA-1" not in page and "/api/docs/" in page


def test_a_coordinator_without_a_site_is_told_to_ask_for_one(client):
    client.force_login(UserFactory(role=Role.COORDINATOR))
    assert "not a member of any site" in client.get("/").content.decode()


def test_login_page_uses_local_static_files_only(client):
    page = client.get("/login/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "https://" not in page


def test_login_then_logout(client, coordinator_a):
    response = client.post("/login/", {"username": "coord_a", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_health_answers_when_the_database_does(client):
    assert client.get("/health/").json() == {"status": "ok"}


def test_password_change_works_and_is_audited_without_the_password(client, coordinator_a):
    client.force_login(coordinator_a)
    new_password = "Grey-heron-over-the-river-77"
    response = client.post(
        "/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/password/done/"
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(new_password)
    event = AuditEvent.objects.get(action="password.change")
    assert event.actor == coordinator_a
    assert new_password not in str(event.changes) + str(event.context)
    # Still logged in: changing the password keeps this session.
    assert client.get("/").status_code == 200


def test_password_change_refuses_a_wrong_old_password(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post(
        "/password/",
        {
            "old_password": "not-it",
            "new_password1": "Grey-heron-over-the-river-77",
            "new_password2": "Grey-heron-over-the-river-77",
        },
    )
    assert response.status_code == 200
    assert "old password was entered incorrectly" in response.content.decode()
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(DEFAULT_PASSWORD)
