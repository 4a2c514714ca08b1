import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.cli import describe
from registry.people.models import Role
from registry.people.services import do_create_user


class Command(BaseCommand):
    help = "Create a user with a role; coordinators belong to one or more sites."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        # Checked by the service rather than argparse, so the error reads like the others.
        parser.add_argument("--role", required=True, help=f"one of: {', '.join(Role.values)}")
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            dest="sites",
            metavar="CODE",
            help="a site the user works at (repeatable)",
        )
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input (first line)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("password: nothing was read from standard input.")
        try:
            user = do_create_user(
                None,
                options["username"],
                options["role"],
                site_codes=options["sites"],
                password=password,
                email=options["email"],
            )
        except ValidationError as error:
            raise CommandError(describe(error)) from error
        sites = ", ".join(site.code for site in user.sites.all()) or "all sites"
        self.stdout.write(f"Created {user.role} {user.username} ({sites})")
