from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.demo.synthetic import do_generate_synthetic
from registry.demo.synthetic_patients import DEFAULT_ERROR_SHARE
from registry.demo.synthetic_sites import ensure_synthetic_sites


class Command(BaseCommand):
    help = (
        "Generate synthetic patients (all forms, both Mirror movements versions) across sites "
        "SYN01..SYNnn, with a known share of deliberate mistakes for the quality checks. "
        "The same --seed gives the same patients; running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, required=True, help="how many patients")
        parser.add_argument("--sites", type=int, default=2, help="how many sites (default 2)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument(
            "--error-share",
            type=float,
            default=DEFAULT_ERROR_SHARE,
            help=f"share of patients with one deliberate mistake (default {DEFAULT_ERROR_SHARE})",
        )

    _tenths_reported = 0

    def _progress(self, done: int, total: int) -> None:
        # A million submissions take minutes: say how far along it is every tenth of the way.
        tenths = done * 10 // max(total, 1)
        if tenths > self._tenths_reported:
            self._tenths_reported = tenths
            self.stdout.write(f"  {done:,} of {total:,} patients generated")
            self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 0:
            raise CommandError("--patients must be 0 or more.")
        if not 1 <= options["sites"] <= 99:
            raise CommandError("--sites must be between 1 and 99.")
        if not 0 <= options["error_share"] <= 1:
            raise CommandError("--error-share must be between 0 and 1, for example 0.1.")
        sites = ensure_synthetic_sites(None, options["sites"])
        try:
            report = do_generate_synthetic(
                None,
                sites,
                patients=options["patients"],
                seed=options["seed"],
                error_share=options["error_share"],
                progress=self._progress,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Added {report.patients} patients with {report.submissions} submissions across "
            f"{len(sites)} sites ({report.skipped_existing} were there already)."
        )
        self.stdout.write(
            f"Deliberate mistakes: {report.patients_with_errors} patients "
            f"({report.error_share:.1%}):"
        )
        for rule, count in sorted(report.planted.items()):
            self.stdout.write(f"  {rule:<28} {count}")
