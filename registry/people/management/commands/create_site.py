from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.cli import describe
from registry.people.services import do_create_site


class Command(BaseCommand):
    help = 'Create a participating site: create_site CODE "Name".'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="short site code, e.g. TUMS")
        parser.add_argument("name", help="the site's full name")

    def handle(self, *args: Any, code: str, name: str, **options: Any) -> None:
        try:
            site = do_create_site(None, code, name)
        except ValidationError as error:
            raise CommandError(describe(error)) from error
        self.stdout.write(f"Created site {site.code}: {site.name}")
