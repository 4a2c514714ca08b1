"""The admin opens only to curators and administrators who passed both steps of signing in."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from registry.people.models import Role
from tests.factories import UserFactory, authenticator_for

pytestmark = pytest.mark.django_db

PAGES = ["/admin/", "/admin/submissions/submission/"]


def person(role):
    return UserFactory(
        role=role, is_staff=role in (Role.CURATOR, Role.ADMIN), is_superuser=role == Role.ADMIN
    )


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.RESEARCHER])
def test_coordinators_and_researchers_never_reach_the_admin(client, role, page):
    client.force_login(person(role))
    response = client.get(page, follow=True)
    # The admin's sign-in page, saying they may not go further; never the page itself.
    assert response.redirect_chain and response.redirect_chain[0][0].startswith("/admin/login/")
    assert "not authorized to access this page" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", [Role.CURATOR, Role.ADMIN])
def test_curators_and_administrators_without_an_app_are_sent_to_set_one_up(client, role, page):
    client.force_login(person(role), verified=False)
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/two-factor/enrol/?next=")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", [Role.CURATOR, Role.ADMIN])
def test_curators_and_administrators_with_an_app_are_asked_for_its_code(client, role, page):
    user = person(role)
    authenticator_for(user)
    client.force_login(user, verified=False)
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/two-factor/verify/?next=")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", [Role.CURATOR, Role.ADMIN])
def test_verified_curators_and_administrators_open_the_admin(client, role, page):
    client.force_login(person(role))
    assert client.get(page).status_code == 200


def test_the_admin_site_itself_refuses_a_session_whose_code_is_due(curator):
    # Whatever the middleware does, the site checks the second step on its own.
    request = RequestFactory().get("/admin/")
    request.user = curator
    curator.is_verified = lambda: False
    request.session = {}
    assert admin.site.has_permission(request) is False
    curator.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


def test_the_curators_pages_outside_the_admin_wait_for_the_code_too(client, curator):
    client.force_login(curator, verified=False)
    for page in ["/jobs/", "/quality/", "/", "/statistics/", "/password/"]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/two-factor/enrol/"), page
