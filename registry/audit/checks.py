"""`manage.py check --deploy --database default` warns when the registry's database role could
erase the audit trail (docs/deployment.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import connections

from .database_roles import APPEND_ONLY_MODELS


@register(Tags.database, deploy=True)
def check_app_role_cannot_erase_the_trail(
    app_configs: Sequence[AppConfig] | None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        for model in APPEND_ONLY_MODELS:
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_user, pg_get_userbyid(c.relowner), "
                    "pg_has_role(current_user, c.relowner, 'MEMBER') "
                    "OR EXISTS (SELECT 1 FROM pg_roles s WHERE s.rolsuper "
                    "AND pg_has_role(current_user, s.oid, 'MEMBER')) "
                    "OR has_table_privilege(c.oid, 'UPDATE, DELETE, TRUNCATE') "
                    "FROM pg_class c WHERE c.oid = to_regclass(%s)",
                    [table],
                )
                row = cursor.fetchone()
            if row is None or not row[2]:
                continue
            role, owner = row[0], row[1]
            messages.append(
                CheckWarning(
                    f"The registry connects to the database {alias!r} as {role!r}, which may "
                    "change "
                    f"or empty the audit trail ({table}, owned by {owner!r}).",
                    hint="Run the web server and the workers as a role that owns no table and is "
                    "no superuser, granted by `manage.py grant_app_role`; run the migrations "
                    "as the owner (docs/deployment.md).",
                    obj=model,
                    id="audit.W001",
                )
            )
    return messages
