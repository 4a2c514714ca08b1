from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from registry.demo.services import DEMO_PASSWORD, do_load_demo
from registry.quality.services import do_run_quality_checks
from registry.statistics.models import StatsSnapshot
from registry.statistics.services import do_compute_statistics


class Command(BaseCommand):
    help = (
        "Load the demo registry (sites, one user per role, the index cases, synthetic "
        "patients) and, the first time, compute its statistics and quality checks. Safe to "
        "repeat."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        logins = do_load_demo()
        if not StatsSnapshot.objects.exists():
            # So that the statistics and quality pages have something to show at once; the
            # nightly jobs keep them up to date afterwards.
            do_compute_statistics(None)
            counts = do_run_quality_checks(None, full=True)
            self.stdout.write(
                f"Statistics computed; the quality checks found {counts['findings']} issues."
            )
        self.stdout.write("Demo registry ready. Log in at http://127.0.0.1:8000/ as:")
        for login in logins:
            where = f" at {', '.join(login.sites)}" if login.sites else " (all sites)"
            self.stdout.write(f"  {login.username:<12} {login.role}{where}")
        self.stdout.write(f"Every demo password is: {DEMO_PASSWORD}")
        required = [login.username for login in logins if login.role in settings.OTP_REQUIRED_ROLES]
        if required:
            self.stdout.write(
                f"{' and '.join(required)} sign in with two factors: the first sign-in shows a "
                f"QR code (and its key as text) for an authenticator app, then asks for its "
                f"code. To try the demo without one: OTP_REQUIRED_ROLES= make run"
            )
