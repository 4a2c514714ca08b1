from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.people.models import User
from registry.people.two_factor import do_reset_two_factor


class Command(BaseCommand):
    help = (
        "Remove a person's authenticator app and recovery codes (a lost phone): they set "
        "up two-factor sign-in again at their next sign-in. Audited as otp.device_reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"username: no user named {username}.") from error
        removed = do_reset_two_factor(None, user)
        self.stdout.write(
            f"Two-factor sign-in of {username} reset ({removed} removed); they "
            f"set it up again at their next sign-in."
        )
