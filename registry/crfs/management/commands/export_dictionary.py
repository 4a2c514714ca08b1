from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.crfs.dictionaries import export_dictionary


class Command(BaseCommand):
    help = "Print the latest version of every form (or the named ones) as a REDCap dictionary CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("forms", nargs="*", metavar="FORM")

    def handle(self, *args: Any, forms: list[str], **options: Any) -> None:
        try:
            self.stdout.write(export_dictionary(forms), ending="")
        except LookupError as error:
            raise CommandError(str(error)) from error
