"""Failed log-ins: whose address they came from, and a lock per user name that nobody can make
last longer than its cool-off (docs/security.md)."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from registry.audit.models import AuditEvent
from registry.people.addresses import client_address, trusted_proxies
from tests.factories import DEFAULT_PASSWORD

PROXY = "10.0.0.2"
LIMIT = 5
COOL_OFF = timedelta(minutes=30)


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


class Clock:
    """django-axes takes each attempt's time from django.utils.timezone.now, imported into its
    request handling; patching it there moves axes' time and nothing else."""

    def __init__(self) -> None:
        self.now = timezone.now().replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock():
    moving = Clock()
    with mock.patch("axes.handlers.proxy.now", moving):
        yield moving


def log_in(client, username: str, password: str, forwarded_for: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post("/login/", {"username": username, "password": password}, **extra)


def fail(client, username: str, times: int, **kwargs):
    return [log_in(client, username, "not-the-password", **kwargs) for _ in range(times)][-1]


# --- the client's address ------------------------------------------------------------------


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("198.51.100.9", "203.0.113.7")) == "198.51.100.9"


def test_behind_a_trusted_proxy_the_address_it_forwarded_is_the_clients(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from(PROXY, "203.0.113.7")) == "203.0.113.7"


def test_addresses_a_client_wrote_before_the_proxys_own_are_not_believed(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    # The client sent "X-Forwarded-For: 192.0.2.1"; the proxy appended the address it saw.
    assert client_address(request_from(PROXY, "192.0.2.1, 203.0.113.7")) == "203.0.113.7"


def test_a_chain_of_trusted_proxies_is_followed_to_the_client(settings):
    settings.TRUSTED_PROXIES = [PROXY, "10.0.0.3"]
    assert client_address(request_from(PROXY, "192.0.2.1, 203.0.113.7, 10.0.0.3")) == (
        "203.0.113.7"
    )


def test_x_forwarded_for_from_an_address_that_is_not_a_trusted_proxy_is_ignored(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from("198.51.100.9", "203.0.113.7")) == "198.51.100.9"


def test_a_malformed_forwarded_address_leaves_the_proxys(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from(PROXY, "not-an-address")) == PROXY
    assert client_address(request_from(PROXY)) == PROXY


def test_a_trusted_proxy_that_is_not_an_address_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match=r"TRUSTED_PROXIES: 'proxy\.example' is not an IP"):
        trusted_proxies(["10.0.0.2", "proxy.example"])
    assert trusted_proxies([" 10.0.0.2", "::FFFF:10.0.0.3"]) == ["10.0.0.2", "::ffff:a00:3"]


# --- what a failed log-in records and locks ------------------------------------------------


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_failed_login_keeps_its_clients_address(
    client, settings, coordinator_a
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's REMOTE_ADDR
    fail(client, "coord_a", 1, forwarded_for="203.0.113.7")
    fail(client, "coord_a", 1, forwarded_for="198.51.100.9")
    assert sorted(AccessAttempt.objects.values_list("ip_address", flat=True)) == [
        "198.51.100.9",
        "203.0.113.7",
    ]
    assert sorted(
        event.context["address"] for event in AuditEvent.objects.filter(action="login_failed")
    ) == ["198.51.100.9", "203.0.113.7"]


@pytest.mark.django_db
def test_failures_from_different_clients_add_up_for_one_user_name(client, settings, coordinator_a):
    # Many addresses do not buy an attacker more guesses at one account.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for number in range(LIMIT - 1):
        assert fail(client, "coord_a", 1, forwarded_for=f"203.0.113.{number}").status_code == 200
    assert fail(client, "coord_a", 1, forwarded_for="198.51.100.9").status_code == 429
    assert log_in(client, "coord_a", DEFAULT_PASSWORD, "192.0.2.50").status_code == 429


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_spoofed_header_neither_dodges_the_count_nor_is_recorded(
    client, settings, coordinator_a
):
    settings.TRUSTED_PROXIES = []
    for number in range(LIMIT - 1):
        fail(client, "coord_a", 1, forwarded_for=f"203.0.113.{number}")
    assert fail(client, "coord_a", 1, forwarded_for="198.51.100.9").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@pytest.mark.django_db
def test_a_locked_user_name_does_not_lock_anyone_else_at_the_same_address(
    client, coordinator_a, coordinator_b
):
    fail(client, "coord_a", LIMIT)
    assert log_in(client, "coord_b", DEFAULT_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_locked_out_page_says_until_when(client, clock, coordinator_a):
    # A morning already past: axes compares some times with the real clock.
    clock.now = (clock.now - timedelta(days=1)).replace(hour=9, minute=5, second=0)
    response = fail(client, "coord_a", LIMIT)
    assert response.status_code == 429
    page = response.content.decode()
    ends = clock.now + COOL_OFF
    assert f"locked until <strong>09:35 UTC on {ends.day} {ends:%B %Y}</strong>" in page
    assert "in about 30 minutes" in page

    clock.advance(timedelta(minutes=20))
    page = log_in(client, "coord_a", DEFAULT_PASSWORD).content.decode()
    assert "locked until <strong>09:35 UTC" in page
    assert "in about 10 minutes" in page


@pytest.mark.django_db
def test_attempts_during_a_lockout_do_not_extend_it(client, clock, coordinator_a):
    fail(client, "coord_a", LIMIT)
    locked_at = clock.now
    # An attacker keeps trying all through the lock, wrong passwords and right.
    for _ in range(29):
        clock.advance(timedelta(minutes=1))
        assert fail(client, "coord_a", 1).status_code == 429
        assert log_in(client, "coord_a", DEFAULT_PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().attempt_time == locked_at

    clock.now = locked_at + COOL_OFF + timedelta(seconds=1)
    response = log_in(client, "coord_a", DEFAULT_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
def test_after_the_cool_off_the_count_starts_again(client, clock, coordinator_a):
    fail(client, "coord_a", LIMIT)
    clock.advance(COOL_OFF + timedelta(seconds=1))
    assert fail(client, "coord_a", 1).status_code == 200  # one failure, not the sixth
    assert log_in(client, "coord_a", DEFAULT_PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()  # a log-in clears the count


@pytest.mark.django_db
def test_an_administrator_can_lift_a_lock_at_once(client, coordinator_a):
    fail(client, "coord_a", LIMIT)
    call_command("axes_reset_username", "coord_a", stdout=io.StringIO())
    assert log_in(client, "coord_a", DEFAULT_PASSWORD).status_code == 302
