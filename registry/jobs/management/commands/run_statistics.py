from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.jobs.models import JobKind

from ._runs import add_wait_argument, start_and_report


class Command(BaseCommand):
    help = (
        "Compute the aggregate statistics (the same task as the nightly run): queued when a "
        "queue is configured (REDIS_URL), in this process otherwise. Prints a summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_wait_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        start_and_report(self, JobKind.STATISTICS, wait=options["wait"])
