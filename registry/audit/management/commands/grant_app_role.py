from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.audit.database_roles import AppRoleRefused, grant_app_role


class Command(BaseCommand):
    help = (
        "Grant the role the registry runs as what it needs and no more (PostgreSQL): "
        "grant_app_role ROLE. Run it as the tables' owner, after every migrate; the audit "
        "trail stays append-only for ROLE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the database role of the web server and workers")
        parser.add_argument("--database", default="default", help="the database alias")

    def handle(self, *args: Any, role: str, database: str, **options: Any) -> None:
        try:
            grants = grant_app_role(role, using=database)
        except AppRoleRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Granted {role}: read and write on {len(grants.ordinary_tables)} tables, "
            f"read and append only on {', '.join(grants.append_only_tables)}."
        )
