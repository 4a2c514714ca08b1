"""People, sites and tokens edited in the admin are written by the services, and audited under
the services' action names with `via: admin`."""

from __future__ import annotations

import pytest
from django.contrib import admin

from registry.audit.models import AuditEvent
from registry.people.admin_roles import AdministrationAdmin
from registry.people.models import ApiToken, Role, Site, SiteMembership, User
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user)
    return client


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def add_user(client, **overrides: object):
    return client.post(
        "/admin/people/user/add/",
        {
            "username": "nurse",
            "role": "coordinator",
            "email": "",
            "usable_password": "true",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
            **overrides,
        },
    )


def edit_user(client, user: User, **overrides: object):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": "on" if user.is_active else "",
        "member_of": [site.pk for site in user.sites.all()],
        **overrides,
    }
    return client.post(
        f"/admin/people/user/{user.pk}/change/", {k: v for k, v in data.items() if v != ""}
    )


def test_a_coordinator_made_in_the_admin_is_created_by_the_service(signed_in, site_a):
    response = add_user(signed_in, member_of=[site_a.pk])
    assert response.status_code == 302
    nurse = User.objects.get(username="nurse")
    assert nurse.check_password(GOOD_PASSWORD) and not nurse.is_staff
    assert list(nurse.sites.all()) == [site_a]
    (event,) = events("user.create")
    assert event.actor.username == "admin" and event.context == {"via": "admin"}
    assert event.changes["sites"] == [None, ["SITEA"]]


def test_a_coordinator_without_a_site_is_refused_beside_the_field(signed_in, site_a):
    response = add_user(signed_in)
    assert response.status_code == 200
    assert "A coordinator must belong to at least one site." in response.content.decode()
    assert not User.objects.filter(username="nurse").exists() and not events("user.create")


def test_adding_a_site_to_a_coordinator_is_audited_with_the_sites(
    signed_in, coordinator_a, site_a, site_b
):
    response = edit_user(signed_in, coordinator_a, member_of=[site_a.pk, site_b.pk])
    assert response.status_code == 302
    assert set(coordinator_a.sites.all()) == {site_a, site_b}
    (event,) = events("user.update")
    assert event.changes == {"sites": [["SITEA"], ["SITEA", "SITEB"]]}
    assert event.context == {"via": "admin"}


def test_a_save_that_changes_nothing_writes_no_event(signed_in, coordinator_a):
    assert edit_user(signed_in, coordinator_a).status_code == 302
    assert events("user.update") == []


def test_a_new_role_moves_django_flags_with_it(signed_in, coordinator_a):
    assert edit_user(signed_in, coordinator_a, role="curator").status_code == 302
    coordinator_a.refresh_from_db()
    assert coordinator_a.role == Role.CURATOR and coordinator_a.is_staff
    assert not coordinator_a.is_superuser
    assert events("user.update")[0].changes["role"] == ["coordinator", "curator"]


def test_removing_the_last_site_of_a_coordinator_is_refused(signed_in, coordinator_a):
    response = edit_user(signed_in, coordinator_a, member_of=[])
    assert response.status_code == 200
    assert SiteMembership.objects.filter(user=coordinator_a).count() == 1
    assert events("user.update") == []


def test_an_administrator_cannot_take_away_their_own_role_or_access(signed_in, admin_user):
    assert edit_user(signed_in, admin_user, role="researcher").status_code == 200
    assert edit_user(signed_in, admin_user, is_active="").status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN and admin_user.is_active


def test_turning_off_someones_access_is_audited(signed_in, coordinator_a):
    assert edit_user(signed_in, coordinator_a, is_active="").status_code == 302
    coordinator_a.refresh_from_db()
    assert not coordinator_a.is_active
    assert events("user.update")[0].changes == {"is_active": [True, False]}


def test_a_site_is_made_and_renamed_through_the_service(signed_in):
    assert (
        signed_in.post("/admin/people/site/add/", {"code": "TUMS", "name": "Tehran"}).status_code
        == 302
    )
    site = Site.objects.get(code="TUMS")
    response = signed_in.post(
        f"/admin/people/site/{site.pk}/change/", {"code": "OTHER", "name": "Tehran Children's"}
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.code, site.name) == ("TUMS", "Tehran Children's")
    assert events("site.create")[0].context == {"via": "admin"}
    assert events("site.update")[0].changes == {"name": ["Tehran", "Tehran Children's"]}


def test_a_token_is_renamed_and_revoked_through_the_services(signed_in, admin_user):
    api_token_for(admin_user, name="old name")
    token = ApiToken.objects.get()
    response = signed_in.post(
        f"/admin/people/apitoken/{token.pk}/change/",
        {
            "name": "new name",
            "expires_at_0": "",
            "expires_at_1": "",
            "revoked_at_0": "2020-01-01",
            "revoked_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.name == "new name" and token.expires_at is None
    assert token.revoked_at is None  # only the revoke action revokes
    assert events("api_token.update")[0].changes["name"] == ["old name", "new name"]
    response = signed_in.post(
        "/admin/people/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert events("api_token.revoke")[0].context == {"owner": "admin", "via": "admin"}
    page = signed_in.get("/admin/people/apitoken/").content.decode()
    assert "1 token revoked." in page and "token(s)" not in page


def test_every_administration_page_writes_through_a_service():
    pages = [
        model_admin
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, AdministrationAdmin)
    ]
    assert len(pages) == 3
    for page in pages:
        assert type(page).save_model is not AdministrationAdmin.save_model, type(page)


def test_a_password_set_in_the_admin_is_audited_as_someone_elses_without_the_password(
    signed_in, coordinator_a
):
    response = signed_in.post(
        f"/admin/people/user/{coordinator_a.pk}/password/",
        {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(GOOD_PASSWORD)
    (event,) = events("password.set")
    assert event.actor.username == "admin" and event.object_id == str(coordinator_a.pk)
    assert event.context == {"via": "admin", "usable": True}
    assert GOOD_PASSWORD not in str(event.changes) + str(event.context)
    assert not events("password.change")


def test_turning_password_sign_in_off_in_the_admin_is_audited(signed_in, coordinator_a):
    response = signed_in.post(
        f"/admin/people/user/{coordinator_a.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302
    coordinator_a.refresh_from_db()
    assert not coordinator_a.has_usable_password()
    (event,) = events("password.set")
    assert event.context == {"via": "admin", "usable": False}


def test_a_weak_password_set_in_the_admin_is_refused_and_not_audited(signed_in, coordinator_a):
    response = signed_in.post(
        f"/admin/people/user/{coordinator_a.pk}/password/",
        {"password1": "abc", "password2": "abc", "usable_password": "true"},
    )
    assert response.status_code == 200
    coordinator_a.refresh_from_db()
    assert not coordinator_a.check_password("abc") and not events("password.set")
