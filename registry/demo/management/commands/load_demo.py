from typing import Any

from django.core.management.base import BaseCommand

from registry.demo.services import DEMO_PASSWORD, do_load_demo


class Command(BaseCommand):
    help = "Load the demo registry (sites, one user per role, the index cases). Safe to repeat."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = do_load_demo()
        self.stdout.write("Demo registry ready. Log in at http://127.0.0.1:8000/ as:")
        for login in logins:
            where = f" at {', '.join(login.sites)}" if login.sites else " (all sites)"
            self.stdout.write(f"  {login.username:<12} {login.role}{where}")
        self.stdout.write(f"Every demo password is: {DEMO_PASSWORD}")
