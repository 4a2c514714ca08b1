"""Production settings refuse to start on the public demo keys; PostgreSQL prepares statements."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = "s" * 60
GOOD_PSEUDONYM_KEY = "p" * 60


def run_under_production(*args: str, **env_overrides: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REGISTRY_PSEUDONYM_KEY"}}
    env["DJANGO_SETTINGS_MODULE"] = "registry.settings.production"
    for name, value in env_overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("secret", "pseudonym_key", "complaint"),
    [
        (None, GOOD_PSEUDONYM_KEY, "SECRET_KEY is not set"),
        (
            "insecure-demo-secret-key-do-not-use-in-production",
            GOOD_PSEUDONYM_KEY,
            "SECRET_KEY is not set",
        ),
        ("short", GOOD_PSEUDONYM_KEY, "SECRET_KEY is too short"),
        (GOOD_SECRET, None, "REGISTRY_PSEUDONYM_KEY is not set"),
        (
            GOOD_SECRET,
            "insecure-demo-pseudonym-key-do-not-use-in-production",
            "REGISTRY_PSEUDONYM_KEY is not set",
        ),
    ],
)
def test_production_refuses_missing_or_default_keys(secret, pseudonym_key, complaint):
    result = run_under_production("check", SECRET_KEY=secret, REGISTRY_PSEUDONYM_KEY=pseudonym_key)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_check_deploy_is_clean_with_real_keys_even_if_debug_is_asked_for():
    result = run_under_production(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k3J9!qP2@zW8#rT5$mN1%vB7^xC4&yH6*uL0" * 2,
        REGISTRY_PSEUDONYM_KEY=GOOD_PSEUDONYM_KEY,
        DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
@pytest.mark.django_db
def test_on_postgresql_a_statement_run_often_is_prepared_once():
    statement = "SELECT count(*) FROM people_site WHERE code = %s"
    with connection.cursor() as cursor:
        for _ in range(6):
            cursor.execute(statement, ["NOPE"])
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert "SELECT count(*) FROM people_site WHERE code = $1" in prepared
