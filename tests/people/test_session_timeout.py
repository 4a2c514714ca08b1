"""A session ends after SESSION_IDLE_TIMEOUT_SECONDS without a request, and SESSION_COOKIE_AGE
after signing in; the sign-in page says why (registry/people/sessions.py)."""

import time

import pytest

from registry.audit.models import AuditEvent
from registry.people.sessions import LAST_SEEN_AT, SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def move_session_clock(client, **seconds_ago):
    """Pretend the session signed in or was last seen that many seconds ago."""
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


@pytest.fixture
def signed_in(client, coordinator_a, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 1800
    client.force_login(coordinator_a)
    return client


def test_a_session_idle_longer_than_the_timeout_is_signed_out(signed_in, coordinator_a):
    move_session_clock(signed_in, **{LAST_SEEN_AT: 1801})
    response = signed_in.get("/queries/?status=open")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fqueries%2F%3Fstatus%3Dopen"
    login_page = signed_in.get(response["Location"]).content.decode()
    assert "signed out after 30 minutes without activity" in login_page
    event = AuditEvent.objects.filter(action="logout").get()
    assert event.actor == coordinator_a and event.context["reason"] == "idle"
    assert signed_in.get("/queries/")["Location"].startswith("/login/")


def test_a_session_used_within_the_timeout_goes_on(signed_in):
    move_session_clock(signed_in, **{LAST_SEEN_AT: 1790})
    assert signed_in.get("/queries/").status_code == 200
    assert not AuditEvent.objects.filter(action="logout").exists()


def test_the_timeout_comes_from_the_settings(signed_in, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 300
    move_session_clock(signed_in, **{LAST_SEEN_AT: 301})
    response = signed_in.get("/queries/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "after 5 minutes" in signed_in.get(response["Location"]).content.decode()


def test_the_last_seen_time_is_written_at_most_once_a_minute(signed_in):
    move_session_clock(signed_in, **{LAST_SEEN_AT: 30})
    before = signed_in.session[LAST_SEEN_AT]
    signed_in.get("/queries/")
    assert signed_in.session[LAST_SEEN_AT] == before
    move_session_clock(signed_in, **{LAST_SEEN_AT: 61})
    signed_in.get("/queries/")
    assert signed_in.session[LAST_SEEN_AT] >= int(time.time()) - 1


def test_a_busy_session_still_ends_eight_hours_after_signing_in(signed_in, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    move_session_clock(signed_in, **{SIGNED_IN_AT: 8 * 60 * 60 + 1, LAST_SEEN_AT: 10})
    response = signed_in.get("/queries/")
    assert response.status_code == 302
    assert "a session lasts at most 8 hours" in signed_in.get(response["Location"]).content.decode()
    assert AuditEvent.objects.get(action="logout").context["reason"] == "expired"


def test_an_idle_session_on_the_api_is_refused_not_redirected(signed_in):
    move_session_clock(signed_in, **{LAST_SEEN_AT: 1801})
    response = signed_in.get("/api/v1/sites/")
    assert response.status_code in (401, 403)
    assert AuditEvent.objects.get(action="logout").context["reason"] == "idle"


def test_signing_in_starts_both_clocks(client, coordinator_a):
    from tests.factories import DEFAULT_PASSWORD

    client.post("/login/", {"username": coordinator_a.username, "password": DEFAULT_PASSWORD})
    now = int(time.time())
    assert now - 2 <= client.session[SIGNED_IN_AT] <= now
    assert now - 2 <= client.session[LAST_SEEN_AT] <= now
