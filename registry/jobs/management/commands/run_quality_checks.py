from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.jobs.models import JobKind

from ._runs import add_wait_argument, start_and_report


class Command(BaseCommand):
    help = (
        "Run the data-quality checks (the same task as the nightly run): only the patients "
        "changed since the last successful run, or everything with --full. Queued when a "
        "queue is configured (REDIS_URL), in this process otherwise. Prints a summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="check every patient")
        add_wait_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        start_and_report(self, JobKind.QUALITY, full=options["full"], wait=options["wait"])
