"""The PostgreSQL grants of the role the registry runs as: enough to work, too little to erase
the audit trail.

Migrations run as the role that owns the tables (the owner may do anything to them, so the app
never connects as it). The app's role gets SELECT, INSERT, UPDATE and DELETE on every table of
the registry's models and SELECT, INSERT only on the append-only ones: not being their owner,
it can neither disable their triggers nor drop them, and without TRUNCATE, UPDATE or DELETE it
cannot remove a row. `session_replication_role`, which would silence every trigger, is a
superuser's setting, so a role that is one is refused here.

Run after every `migrate` (docker/entrypoint.sh does): the tables come from the models, so a
table added by a later migration is granted the next time, and a table that became append-only
loses UPDATE and DELETE. Nothing is granted by ALTER DEFAULT PRIVILEGES for that reason: a new
audit table would be writable until someone remembered to revoke.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections, models, transaction
from django.db.backends.utils import CursorWrapper

from .models import AuditEvent

# Tables whose rows, once written, stay as they are. The app may add to them and read them.
APPEND_ONLY_MODELS: tuple[type[models.Model], ...] = (AuditEvent,)

ORDINARY_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"


class AppRoleRefused(Exception):
    """The role cannot be made the app's: granting to it would not protect the audit trail."""


@dataclass(frozen=True)
class AppRoleGrants:
    """What was granted: table names by kind, and the sequences the app may draw ids from."""

    role: str
    ordinary_tables: list[str]
    append_only_tables: list[str]
    sequences: list[str]


def grant_app_role(role: str, *, using: str = "default") -> AppRoleGrants:
    """Give `role` exactly the privileges the registry needs, on PostgreSQL, as the tables' owner.

    Idempotent: every table's privileges for the role are first revoked and then granted, in one
    transaction, so running it again (or after someone granted more by hand) leaves the same
    state, and the app never sees a moment without its grants.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise AppRoleRefused(
            f"The database is {connection.display_name}, which has no roles: there is nothing to "
            "grant (the audit table's trigger guards it there)."
        )
    append_only = {model._meta.db_table for model in APPEND_ONLY_MODELS}
    with transaction.atomic(using=using), connection.cursor() as cursor:
        tables = sorted(
            connection.introspection.django_table_names(only_existing=True, include_views=False)
        )
        _refuse_unsafe_role(cursor, role, sorted(append_only & set(tables)))
        grantee = _identifier(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA {_identifier(_current_schema(cursor))} TO {grantee}")
        for table in tables:
            privileges = APPEND_ONLY_PRIVILEGES if table in append_only else ORDINARY_PRIVILEGES
            name = _identifier(table)
            cursor.execute(f"REVOKE ALL ON TABLE {name} FROM {grantee}")
            cursor.execute(f"GRANT {privileges} ON TABLE {name} TO {grantee}")
            if table in append_only:
                # Nobody else either: a grant to PUBLIC would reach the app's role too.
                cursor.execute(f"REVOKE ALL ON TABLE {name} FROM PUBLIC")
        # Which migrations ran, for `showmigrations` and the checks; never written by the app.
        if "django_migrations" in connection.introspection.table_names(cursor):
            cursor.execute(f"REVOKE ALL ON TABLE django_migrations FROM {grantee}")
            cursor.execute(f"GRANT SELECT ON TABLE django_migrations TO {grantee}")
        sequences = _sequences_of(cursor, tables)
        for sequence in sequences:
            name = _identifier(sequence)
            # nextval (USAGE) and currval (SELECT); not setval, which would need UPDATE.
            cursor.execute(f"REVOKE ALL ON SEQUENCE {name} FROM {grantee}")
            cursor.execute(f"GRANT USAGE, SELECT ON SEQUENCE {name} TO {grantee}")
    return AppRoleGrants(
        role=role,
        ordinary_tables=[table for table in tables if table not in append_only],
        append_only_tables=[table for table in tables if table in append_only],
        sequences=sequences,
    )


def _refuse_unsafe_role(
    cursor: CursorWrapper, role: str, append_only_tables: Iterable[str]
) -> None:
    # A member of a superuser role can SET ROLE to it, with or without INHERIT.
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_roles s WHERE s.rolsuper "
        "AND pg_has_role(r.oid, s.oid, 'MEMBER')) "
        "FROM pg_roles r WHERE r.rolname = %s",
        [role],
    )
    row = cursor.fetchone()
    if row is None:
        raise AppRoleRefused(
            f"There is no database role named {role!r}. Create it first (LOGIN NOSUPERUSER "
            "NOCREATEDB NOCREATEROLE), as docker/postgres-init/ does."
        )
    (superuser,) = row
    if superuser:
        raise AppRoleRefused(
            f"{role!r} is a superuser or may become one: no grant can stop it from erasing the "
            "audit trail. Run the registry as a role created NOSUPERUSER, a member of no "
            "superuser role."
        )
    for table in append_only_tables:
        cursor.execute(
            "SELECT pg_get_userbyid(relowner), pg_has_role(%s, relowner, 'MEMBER') "
            "FROM pg_class WHERE oid = %s::regclass",
            [role, _identifier(table)],
        )
        owner, acts_as_owner = cursor.fetchone()
        if acts_as_owner:
            raise AppRoleRefused(
                f"{role!r} owns the table {table} or is a member of its owner ({owner}), so it "
                "could disable the table's trigger or drop it. Run the registry as a role that "
                "owns no table, and run the migrations as the owner."
            )


def _current_schema(cursor: CursorWrapper) -> str:
    cursor.execute("SELECT current_schema()")
    return str(cursor.fetchone()[0])


def _sequences_of(cursor: CursorWrapper, tables: list[str]) -> list[str]:
    """The sequences that give the tables' columns their ids (identity and serial columns)."""
    if not tables:
        return []
    cursor.execute(
        "SELECT DISTINCT s.relname FROM pg_class s "
        "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
        "AND d.refclassid = 'pg_class'::regclass "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.relkind = 'S' AND t.relname = ANY(%s) AND pg_table_is_visible(t.oid) "
        "ORDER BY s.relname",
        [list(tables)],
    )
    return [name for (name,) in cursor.fetchall()]


def _identifier(name: str) -> str:
    """`name` as a PostgreSQL identifier, quoted so that any spelling stays one name."""
    return '"' + name.replace('"', '""') + '"'
