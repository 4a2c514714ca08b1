from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.cli import describe
from registry.people.models import User
from registry.people.services import do_create_api_token


class Command(BaseCommand):
    help = "Create an API token for a user and print it once. Only its hash is kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=365,
            help="days until the token stops working (default 365)",
        )

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"username: no user named {username}.") from error
        try:
            _, token = do_create_api_token(
                None, user, name=options["name"], expires_in_days=options["expires_days"]
            )
        except ValidationError as error:
            raise CommandError(describe(error)) from error
        self.stdout.write(token)
