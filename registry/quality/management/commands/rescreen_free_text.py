from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.jobs.management.commands._runs import add_wait_argument, start_and_report
from registry.jobs.models import JobKind, JobStatus
from registry.quality.models import IssueStatus, QualityIssue


class Command(BaseCommand):
    help = (
        "Re-screen every stored free-text answer (notes, and text without a validation, of "
        "every form version) with the identifier screen, and raise an 'identifier_in_free_text' "
        "quality issue for each hit. Nothing stored is changed. This is a full data-quality run "
        "(the nightly runs keep the rule up to date for changed patients): its progress shows "
        "on the jobs page, it is audited, and issues already open are not raised twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_wait_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run = start_and_report(self, JobKind.QUALITY, full=True, wait=options["wait"])
        if run.status == JobStatus.SUCCEEDED:
            open_hits = QualityIssue.objects.filter(
                rule="identifier_in_free_text", status=IssueStatus.OPEN
            ).count()
            self.stdout.write(
                f"Free-text answers holding what looks like an identifier: "
                f"{open_hits} open issue(s) (rule identifier_in_free_text)."
            )
