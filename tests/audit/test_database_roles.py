"""The registry's own database role can do the registry's work but cannot erase the audit trail.

On PostgreSQL each test makes a fresh login role (the suite connects as a superuser, which may),
grants it what `grant_app_role` grants, and connects as it. The tests commit (the other
connection sees only committed grants and rows), so they are transactional.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from django.conf import settings
from django.core.checks import Tags, run_checks
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from registry.audit.models import AuditEvent
from registry.audit.services import record_event
from registry.patients.services import do_enrol_patient, do_update_patient
from registry.people.models import Role, Site
from registry.people.services import do_create_site, do_create_user
from registry.quality.services import do_run_quality_checks
from registry.statistics.services import do_compute_statistics
from registry.submissions.services import do_save_submission
from tests.factories import DEFAULT_PASSWORD, assessment_schema, publish_form

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database roles are PostgreSQL's; on SQLite the audit table's trigger guards it",
)
pytestmark = pytest.mark.django_db(transaction=True)

AUDIT_TABLE = AuditEvent._meta.db_table


@dataclass(frozen=True)
class LoginRole:
    name: str
    password: str


@pytest.fixture
def app_role() -> Iterator[LoginRole]:
    """A login role like the one docker/postgres-init/ makes for the app, dropped afterwards."""
    role = LoginRole(f"test_app_{secrets.token_hex(6)}", secrets.token_hex(16))
    with connection.cursor() as cursor:
        # Hex only, so the password may sit in the statement (roles take no parameters).
        cursor.execute(
            f"CREATE ROLE {role.name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"NOINHERIT PASSWORD '{role.password}'"
        )
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role.name}")
        cursor.execute(f"DROP ROLE {role.name}")


@pytest.fixture
def granted_role(app_role: LoginRole) -> LoginRole:
    call_command("grant_app_role", app_role.name, stdout=io.StringIO())
    return app_role


@contextmanager
def connected_as(role: LoginRole) -> Iterator[psycopg.Connection]:
    """A connection of its own to the test database, as `role`; each statement commits."""
    database = connection.settings_dict
    raw = psycopg.connect(
        dbname=database["NAME"],
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=role.name,
        password=role.password,
        autocommit=True,
    )
    try:
        yield raw
    finally:
        raw.close()


@contextmanager
def django_runs_as(role: LoginRole) -> Iterator[None]:
    """The registry's own connection reconnects as `role`, so services run as the app would."""
    database = connection.settings_dict
    saved = database["USER"], database["PASSWORD"]
    connection.close()
    database["USER"], database["PASSWORD"] = role.name, role.password
    try:
        yield
    finally:
        connection.close()
        database["USER"], database["PASSWORD"] = saved


def run(command: list, **options) -> None:
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, done.stdout + done.stderr


def audit_event_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {AUDIT_TABLE}")
        return cursor.fetchone()[0]


def privileges_of(role: LoginRole, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.privilege_type FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.oid = %s::regclass AND a.grantee = %s::regrole",
            [table, role.name],
        )
        return {privilege for (privilege,) in cursor.fetchall()}


@needs_postgresql
def test_the_app_role_appends_to_and_reads_the_audit_trail(granted_role):
    with connected_as(granted_role) as raw:
        event_id = raw.execute(
            f"INSERT INTO {AUDIT_TABLE} (at, actor_username, action, object_type, object_id, "
            "object_label, changes, context, request_id) "
            "VALUES (now(), '', 'test.append', '', '', '', '{}', '{}', '') RETURNING id"
        ).fetchone()[0]
        found = raw.execute(f"SELECT action FROM {AUDIT_TABLE} WHERE id = %s", [event_id])
        assert found.fetchone() == ("test.append",)
        raw.execute("INSERT INTO people_site (code, name, created_at) VALUES ('ROLE', 'R', now())")
        changed = raw.execute("UPDATE people_site SET name = 'Role hospital' WHERE code = 'ROLE'")
        assert changed.rowcount == 1
    assert Site.objects.get(code="ROLE").name == "Role hospital"


@needs_postgresql
def test_the_registrys_services_run_as_the_app_role(granted_role):
    with django_runs_as(granted_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (granted_role.name,)
        site = do_create_site(None, "ROLE", "Role hospital")
        coordinator = do_create_user(
            None, "role_coord", Role.COORDINATOR, site_codes=["ROLE"], password=DEFAULT_PASSWORD
        )
        version = publish_form(assessment_schema())
        patient = do_enrol_patient(
            coordinator, site, local_id="R-1", sex="female", year_of_birth=2015
        ).patient
        do_update_patient(coordinator, patient, sex="female", year_of_birth=2016)
        outcome = do_save_submission(
            coordinator, patient, version, {"age_months": "36", "mm_present": "1", "wt_grade": "2"}
        )
        do_save_submission(
            coordinator,
            patient,
            version,
            {"age_months": "37", "mm_present": "1", "wt_grade": "2"},
            instance=outcome.submission.instance,
            expected_row_version=1,
        )
        do_compute_statistics(None)
        do_run_quality_checks(None, full=True)
        response = Client().post(
            "/login/", {"username": "role_coord", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "site.create",
        "patient.create",
        "patient.update",
        "submission.create",
        "submission.update",
        "login",
    } <= actions


@needs_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        f"TRUNCATE {AUDIT_TABLE}",
        f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER ALL",
        f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER USER",
        f"DROP TRIGGER audit_event_append_only ON {AUDIT_TABLE}",
        f"DROP TABLE {AUDIT_TABLE}",
        "SET session_replication_role = replica",
        f"UPDATE {AUDIT_TABLE} SET action = 'nothing happened'",
        f"DELETE FROM {AUDIT_TABLE}",
    ],
)
def test_the_app_role_cannot_erase_the_audit_trail(granted_role, statement):
    record_event(None, "login_failed")
    with connected_as(granted_role) as raw, pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw.execute(statement)
    assert AuditEvent.objects.get().action == "login_failed"


@needs_postgresql
def test_granting_twice_leaves_the_same_privileges(app_role):
    call_command("grant_app_role", app_role.name, stdout=io.StringIO())
    first = {
        table: privileges_of(app_role, table) for table in connection.introspection.table_names()
    }
    call_command("grant_app_role", app_role.name, stdout=io.StringIO())
    second = {
        table: privileges_of(app_role, table) for table in connection.introspection.table_names()
    }
    assert first == second
    assert second[AUDIT_TABLE] == {"SELECT", "INSERT"}
    assert second["django_migrations"] == {"SELECT"}
    ordinary = set(second) - {AUDIT_TABLE, "django_migrations"}
    assert ordinary and all(
        second[table] == {"SELECT", "INSERT", "UPDATE", "DELETE"} for table in ordinary
    )


@needs_postgresql
def test_granting_takes_back_what_was_granted_by_hand(app_role):
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT ALL ON {AUDIT_TABLE}, people_site TO {app_role.name}")
        cursor.execute(f"GRANT UPDATE ON {AUDIT_TABLE} TO PUBLIC")
    call_command("grant_app_role", app_role.name, stdout=io.StringIO())
    assert privileges_of(app_role, AUDIT_TABLE) == {"SELECT", "INSERT"}
    assert privileges_of(app_role, "people_site") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    with connected_as(app_role) as raw, pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw.execute(f"UPDATE {AUDIT_TABLE} SET action = 'x'")


@needs_postgresql
def test_granting_refuses_a_superuser():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (superuser,) = cursor.fetchone()
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("grant_app_role", superuser)


@needs_postgresql
def test_granting_refuses_a_role_that_may_become_a_superuser(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (superuser,) = cursor.fetchone()
        # NOINHERIT (as app_role is) does not help: SET ROLE would still be allowed.
        cursor.execute(f'GRANT "{superuser}" TO {app_role.name}')
    with pytest.raises(CommandError, match="is a superuser or may become one"):
        call_command("grant_app_role", app_role.name)


@needs_postgresql
def test_granting_refuses_the_owner_of_the_audit_table(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = '{AUDIT_TABLE}'::regclass"
        )
        (owner,) = cursor.fetchone()
        cursor.execute(f"ALTER TABLE {AUDIT_TABLE} OWNER TO {app_role.name}")
    try:
        with pytest.raises(CommandError, match=f"owns the table {AUDIT_TABLE}"):
            call_command("grant_app_role", app_role.name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE {AUDIT_TABLE} OWNER TO "{owner}"')


@needs_postgresql
def test_granting_to_a_missing_role_says_to_create_it():
    with pytest.raises(CommandError, match="no database role named 'nobody_has_this_name'"):
        call_command("grant_app_role", "nobody_has_this_name")


def audit_warnings() -> list[str]:
    messages = run_checks(
        tags=[Tags.database], include_deployment_checks=True, databases=["default"]
    )
    return [message.msg for message in messages if message.id == "audit.W001"]


@needs_postgresql
def test_the_deploy_check_warns_when_the_registry_runs_as_a_superuser():
    (warning,) = audit_warnings()
    assert "may change or empty the audit trail" in warning


@needs_postgresql
def test_the_deploy_check_is_quiet_for_the_granted_app_role(granted_role):
    with django_runs_as(granted_role):
        assert audit_warnings() == []


@needs_postgresql
@pytest.mark.skipif(shutil.which("psql") is None, reason="the init script runs psql")
def test_the_compose_init_script_and_migrate_step_keep_the_trail_append_only():
    """docker/postgres-init/ makes the roles of a new database, `registry-entrypoint migrate`
    migrates as the owner and grants; the app's role then works but cannot erase the trail."""
    server = connection.settings_dict
    database = f"test_roles_{secrets.token_hex(6)}"
    owner = LoginRole(f"test_owner_{secrets.token_hex(6)}", secrets.token_hex(16))
    app = LoginRole(f"test_app_{secrets.token_hex(6)}", secrets.token_hex(16))
    host, port = server["HOST"] or "127.0.0.1", str(server["PORT"] or 5432)
    base = settings.BASE_DIR
    environment = {
        **os.environ,
        "PGHOST": host,
        "PGPORT": port,
        "PGPASSWORD": server["PASSWORD"] or "",
        "POSTGRES_USER": server["USER"],
        "POSTGRES_DB": database,
        "REGISTRY_DB_OWNER": owner.name,
        "REGISTRY_DB_OWNER_PASSWORD": owner.password,
        "REGISTRY_DB_APP": app.name,
        "REGISTRY_DB_APP_PASSWORD": app.password,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    try:
        run([base / "docker" / "postgres-init" / "10-registry-roles.sh"], env=environment)
        url = f"postgres://{{role.name}}:{{role.password}}@{host}:{port}/{database}"
        run(
            ["sh", base / "docker" / "entrypoint.sh", "migrate"],
            cwd=base,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "registry.settings.test",
                "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
                "DATABASE_URL": url.format(role=app),
                "DATABASE_OWNER_URL": url.format(role=owner),
            },
        )
        raw = psycopg.connect(
            dbname=database,
            host=host,
            port=port,
            user=app.name,
            password=app.password,
            autocommit=True,
        )
        with raw:
            # sync_forms ran as the app's role and was audited.
            assert raw.execute(f"SELECT count(*) FROM {AUDIT_TABLE}").fetchone()[0] > 0
            owner_of_trail = raw.execute(
                f"SELECT pg_get_userbyid(relowner) FROM pg_class "
                f"WHERE oid = '{AUDIT_TABLE}'::regclass"
            ).fetchone()[0]
            assert owner_of_trail == owner.name
            for statement in (
                f"TRUNCATE {AUDIT_TABLE}",
                f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER ALL",
                "SET session_replication_role = replica",
                "CREATE TABLE somewhere_else (id int)",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    raw.execute(statement)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            cursor.execute(f"DROP ROLE IF EXISTS {owner.name}")
            cursor.execute(f"DROP ROLE IF EXISTS {app.name}")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's answer")
def test_granting_on_sqlite_changes_nothing_and_says_why():
    before = audit_event_count()
    with pytest.raises(CommandError, match="has no roles"):
        call_command("grant_app_role", "registry_app")
    assert audit_event_count() == before
