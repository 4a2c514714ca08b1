"""The benchmark database: PostgreSQL, filled with synthetic data once and reused between runs.

Set BENCH_DATABASE_URL to use another server; the default is the local one CI also has.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/registry_bench"


def configure_django() -> None:
    """Point Django at the benchmark database and start it (call before importing models)."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _create_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("sync_forms", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


def _create_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def ensure_site_with_patients(code: str, patients: int, seed: int) -> None:
    """A site holding `patients` synthetic patients with all their forms (made once)."""
    from registry.demo.synthetic import do_generate_synthetic
    from registry.patients.models import Patient
    from registry.people.models import Site
    from registry.people.services import do_create_site

    site = Site.objects.filter(code=code).first() or do_create_site(None, code, f"Bench {code}")
    missing = patients - Patient.objects.filter(site=site).count()
    if missing > 0:
        do_generate_synthetic(None, [site], patients=patients, seed=seed)
