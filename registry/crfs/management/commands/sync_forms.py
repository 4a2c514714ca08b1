from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.crfs.services import FormSyncError, do_sync_forms, read_form_files


class Command(BaseCommand):
    help = "Publish the form versions in forms/ that are not published yet. Safe to repeat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path",
            default=str(Path(settings.BASE_DIR) / "forms"),
            help="the folder holding <form>/v<N>.yaml (default: forms/)",
        )

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        try:
            report = do_sync_forms(None, read_form_files(Path(path)))
        except FormSyncError as error:
            raise CommandError(
                "Nothing was published:\n" + "\n".join(f"  {p}" for p in error.problems)
            ) from error
        for label in report.published:
            self.stdout.write(f"published {label}")
        self.stdout.write(
            f"{len(report.published)} version(s) published, {len(report.unchanged)} unchanged."
        )
