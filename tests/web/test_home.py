import pytest

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_home_shows_only_the_coordinators_sites_and_patients(client, coordinator_a, site_a, site_b):
    PatientFactory(site=site_a, pseudonym="SITEA-1")
    PatientFactory(site=site_b, pseudonym="SITEB-1")
    PatientFactory(site=site_b, pseudonym="SITEB-2")
    client.force_login(coordinator_a)
    page = client.get("/").content.decode()
    assert "SITEA" in page and "SITEB" not in page
    assert "Patients you can see: <strong>1</strong>" in page


def test_login_page_uses_local_static_files_only(client):
    page = client.get("/login/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "https://" not in page


def test_health_answers_when_the_database_does(client):
    assert client.get("/health/").json() == {"status": "ok"}
