"""The benchmark databases: PostgreSQL, filled with synthetic data once and reused between runs.

Each scale has a database of its own (`registry_bench_10k`, `_100k`, `_1m`) holding about that
many submissions, spread over sites of at most 10,000 patients; the page figures use one more,
`registry_bench_pages`, with a single site of 10,000 patients whatever the scale. Set
BENCH_DATABASE_SERVER to use another server; the default is the local one CI also has.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
# What the generator makes on average: the enrolment, lesion, assessment, surgery and
# follow-up forms of one patient.
SUBMISSIONS_PER_PATIENT = 4.58
PATIENTS_PER_SITE = 10_000
SEED = 1


@dataclass(frozen=True)
class Scale:
    """A data set: about `submissions` submissions in a database of its own."""

    label: str
    submissions: int

    @property
    def database(self) -> str:
        return f"registry_bench_{self.label.lower()}"

    @property
    def patients(self) -> int:
        return round(self.submissions / SUBMISSIONS_PER_PATIENT)

    @property
    def sites(self) -> int:
        return max(1, math.ceil(self.patients / PATIENTS_PER_SITE))


SCALES = {
    scale.label: scale
    for scale in (
        Scale("10k", 10_000),
        Scale("100k", 100_000),
        Scale("1M", 1_000_000),
    )
}
PAGES = Scale("pages", round(PATIENTS_PER_SITE * SUBMISSIONS_PER_PATIENT))


def database_url(name: str) -> str:
    return f"{os.environ.get('BENCH_DATABASE_SERVER', DEFAULT_SERVER).rstrip('/')}/{name}"


def configure_django(scale: Scale) -> None:
    """Point Django at the scale's database, migrate it and load the forms (call once per
    process, before importing models)."""
    url = database_url(scale.database)
    _create_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("sync_forms", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


def prepare(scale: Scale) -> int:
    """Configure Django for `scale` and fill its database once; returns its submission count."""
    configure_django(scale)
    from registry.demo.synthetic import do_generate_synthetic
    from registry.demo.synthetic_sites import ensure_synthetic_sites
    from registry.patients.models import Patient
    from registry.submissions.models import Submission

    if Patient.objects.count() < scale.patients:
        sites = ensure_synthetic_sites(None, scale.sites)
        print(
            f"making the {scale.label} data set ({scale.patients:,} patients), once",
            file=sys.stderr,
            flush=True,
        )
        do_generate_synthetic(
            None, sites, patients=scale.patients, seed=SEED, progress=_report, batch_size=5000
        )
    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh tables have no planner statistics, and the suites before this one leave rows
        # behind that autovacuum, between suites run back to back, has no time to see (the
        # write figures delete what they wrote; the HTTP suite's POSTs stay): each suite
        # starts on tables vacuumed and analysed, as a running registry's would be.
        cursor.execute("VACUUM ANALYZE")
    return Submission.objects.count()


def _report(done: int, total: int) -> None:
    if done == total or done % (total // 10 or 1) < 5000:
        print(f"  {done:,} of {total:,} patients", file=sys.stderr, flush=True)


def _create_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
