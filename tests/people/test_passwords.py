"""Every way of setting a password refuses weak ones, with a message naming the problem."""

import io
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from registry.demo.services import DEMO_PASSWORD
from registry.people.models import Role, User
from registry.people.services import do_create_user
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Grey-heron-over-the-river-77"
ELEVEN_CHARACTERS = "kx7-vqp2-mw"
TOO_SHORT = "too short. It must contain at least 12 characters"
GUESSABLE = "registry's name, or that with digits or symbols added"


def create_user_command(username: str, password: str) -> str:
    out, old_stdin = io.StringIO(), sys.stdin
    sys.stdin = io.StringIO(password + "\n")
    try:
        call_command(
            "create_user", username, "--role", "researcher", "--password-stdin", stdout=out
        )
    finally:
        sys.stdin = old_stdin
    return out.getvalue()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Registry2024", GUESSABLE),
        (ELEVEN_CHARACTERS, TOO_SHORT),
        ("Password2024!", "common password with digits or symbols added"),
        ("sunshine1234", "common"),
        ("730194857362", "entirely numeric"),
    ],
)
def test_create_user_command_refuses_a_weak_password_naming_the_problem(password, problem):
    with pytest.raises(CommandError, match="password: .*" + problem.replace(".", r"\.")):
        create_user_command("alice", password)
    assert not User.objects.filter(username="alice").exists()


def test_create_user_command_accepts_a_long_uncommon_password():
    assert "Created researcher alice" in create_user_command("alice", GOOD_PASSWORD)
    assert User.objects.get(username="alice").check_password(GOOD_PASSWORD)


def test_a_password_like_the_user_name_is_refused():
    with pytest.raises(ValidationError) as refused:
        do_create_user(None, "heronwatcher", Role.RESEARCHER, password="heronwatcher77")
    assert "too similar to the username" in str(refused.value.message_dict["password"])


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Registry2024", GUESSABLE),
        (ELEVEN_CHARACTERS, TOO_SHORT),
    ],
)
def test_the_service_refuses_a_weak_password(password, problem):
    with pytest.raises(ValidationError) as refused:
        do_create_user(None, "alice", Role.RESEARCHER, password=password)
    assert problem in " ".join(refused.value.message_dict["password"])
    assert not User.objects.filter(username="alice").exists()


def test_the_demo_and_test_passwords_pass():
    for password in (DEMO_PASSWORD, DEFAULT_PASSWORD):
        validate_password(password, User(username="nurse"))


def admin_add_user(client, password: str):
    return client.post(
        "/admin/people/user/add/",
        {
            "username": "alice",
            "role": "researcher",
            "email": "",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Registry2024", GUESSABLE),
        (ELEVEN_CHARACTERS, TOO_SHORT),
    ],
)
def test_the_admin_refuses_a_weak_password_for_a_new_user(client, admin_user, password, problem):
    client.force_login(admin_user)
    response = admin_add_user(client, password)
    assert response.status_code == 200
    assert problem in response.content.decode().replace("&#x27;", "'")
    assert not User.objects.filter(username="alice").exists()


def test_the_admin_creates_a_user_with_a_good_password(client, admin_user):
    client.force_login(admin_user)
    response = admin_add_user(client, GOOD_PASSWORD)
    assert response.status_code == 302
    assert User.objects.get(username="alice").check_password(GOOD_PASSWORD)


def test_the_admin_refuses_a_weak_password_when_changing_one(client, admin_user, researcher):
    client.force_login(admin_user)
    response = client.post(
        f"/admin/people/user/{researcher.pk}/password/",
        {
            "usable_password": "true",
            "password1": "Registry2024",
            "password2": "Registry2024",
        },
    )
    assert response.status_code == 200
    assert GUESSABLE in response.content.decode().replace("&#x27;", "'")
    researcher.refresh_from_db()
    assert researcher.check_password(DEFAULT_PASSWORD)


def test_the_password_change_page_refuses_a_weak_password(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post(
        "/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Registry2024",
            "new_password2": "Registry2024",
        },
    )
    assert response.status_code == 200
    assert GUESSABLE in response.content.decode().replace("&#x27;", "'")
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(DEFAULT_PASSWORD)
