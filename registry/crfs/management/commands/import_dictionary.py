from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.crfs.dictionaries import do_import_dictionary
from registry.crfs.services import FormSyncError
from registry.formengine.dictionary import DictionaryError


class Command(BaseCommand):
    help = (
        "Load the instruments of a REDCap data dictionary (CSV) as new forms or new versions, "
        "through the same rules as sync_forms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the data dictionary CSV, as REDCap exports it")
        parser.add_argument(
            "--repeatable",
            nargs="*",
            default=[],
            metavar="FORM",
            help="instruments that repeat (a REDCap dictionary does not say)",
        )
        parser.add_argument(
            "--write-forms",
            action="store_true",
            help="also write each new version as forms/<form>/v<N>.yaml",
        )
        parser.add_argument("--forms-path", default=str(Path(settings.BASE_DIR) / "forms"))
        parser.add_argument(
            "--keep-dates",
            action="store_true",
            help="collect date and datetime fields as dates (only for dates that "
            "are not about the patient); by default they are not collected",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error}).") from error
        try:
            report = do_import_dictionary(
                None,
                data,
                repeatable_forms=options["repeatable"],
                forms_root=Path(options["forms_path"]),
                write_files=options["write_forms"],
                keep_dates=options["keep_dates"],
            )
        except DictionaryError as error:
            raise CommandError(
                f"{path}: nothing was loaded.\n" + "\n".join(f"  {p}" for p in error.problems)
            ) from error
        except FormSyncError as error:
            raise CommandError(
                "Nothing was loaded:\n" + "\n".join(f"  {p}" for p in error.problems)
            ) from error
        self.stdout.write(report.summary)
        for label in report.published:
            self.stdout.write(f"published {label}")
        self.stdout.write(
            f"{len(report.published)} version(s) published, {len(report.unchanged)} unchanged."
        )
