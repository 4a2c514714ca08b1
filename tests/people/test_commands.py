"""The set-up commands used by deployments and scripts."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.audit.models import AuditEvent
from registry.people.models import ApiToken, Role, Site, SiteMembership, User
from registry.people.tokens import hash_token

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args, stdin=""):
    out = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = old_stdin
    return out.getvalue()


def test_create_site():
    assert "Created site TUMS" in run("create_site", "tums", "Tehran University Hospital")
    assert Site.objects.get(code="TUMS").name == "Tehran University Hospital"
    assert AuditEvent.objects.filter(action="site.create").count() == 1


def test_duplicate_site_is_refused():
    run("create_site", "TUMS", "Tehran")
    with pytest.raises(CommandError, match="code: A site with code TUMS exists already"):
        run("create_site", "TUMS", "Another")
    assert Site.objects.count() == 1


def test_malformed_site_code_is_refused():
    with pytest.raises(CommandError, match="code:"):
        run("create_site", "T", "Too short")
    assert not Site.objects.exists()


def test_create_coordinator_of_two_sites_with_password():
    run("create_site", "TUMS", "Tehran")
    run("create_site", "MASH", "Mashhad")
    output = run(
        "create_user",
        "nurse1",
        "--role",
        "coordinator",
        "--site",
        "TUMS",
        "--site",
        "MASH",
        "--password-stdin",
        stdin="a-long-demo-passphrase\n",
    )
    assert "Created coordinator nurse1 (MASH, TUMS)" in output
    user = User.objects.get(username="nurse1")
    assert user.check_password("a-long-demo-passphrase")
    assert sorted(user.sites.values_list("code", flat=True)) == ["MASH", "TUMS"]
    assert not user.is_staff


def test_curator_is_staff_and_admin_is_superuser():
    run("create_user", "cur", "--role", "curator")
    run("create_user", "boss", "--role", "admin")
    assert User.objects.get(username="cur").is_staff
    assert User.objects.get(username="boss").is_superuser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "coordinator", "--site", "NOPE"], "sites: Unknown site code"),
        (["--role", "coordinator"], "sites: A coordinator must belong to at least one site"),
        (["--role", "wizard"], "role: Unknown role 'wizard'"),
    ],
)
def test_bad_user_is_refused_and_nothing_is_created(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_user", "nurse2", *args)
    assert not User.objects.filter(username="nurse2").exists()
    assert not SiteMembership.objects.exists()


def test_duplicate_user_is_refused():
    run("create_user", "cur", "--role", "curator")
    with pytest.raises(CommandError, match="username: A user named CUR exists already"):
        run("create_user", "CUR", "--role", "curator")
    assert User.objects.count() == 1


def test_weak_password_is_refused():
    with pytest.raises(CommandError, match="password:"):
        run("create_user", "cur", "--role", "curator", "--password-stdin", stdin="123\n")
    assert not User.objects.exists()


def test_api_token_is_printed_once_and_only_its_hash_is_stored():
    run("create_user", "res", "--role", "researcher")
    token = run("create_api_token", "res", "--name", "analysis").strip()
    assert len(token) == 32 and token.isalnum()
    stored = ApiToken.objects.get()
    assert stored.key_hash == hash_token(token)
    assert token not in str(list(ApiToken.objects.values()))
    assert token not in str(list(AuditEvent.objects.values()))
    assert stored.user.role == Role.RESEARCHER and stored.is_usable()


def test_api_token_for_unknown_user_is_refused():
    with pytest.raises(CommandError, match="username: no user named ghost"):
        run("create_api_token", "ghost")


def test_command_errors_exit_with_status_1(tmp_path):
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "registry.settings.test",
    }
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    result = subprocess.run(
        [*manage, "create_user", "x", "--role", "coordinator", "--site", "NOPE"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Unknown site code(s): NOPE" in result.stderr
