"""Database throughput on PostgreSQL, each figure beside the limit it is compared with:

- flat CSV export (the researchers' REST export, streamed) against `COPY (...) TO STDOUT` of the
  same submissions' columns, in the same run; target >= 0.5 x COPY rows/s;
- a full data-quality run: submissions checked per second; target >= 20,000/s.

Runs on whatever the benchmark database holds (see bench/database.py).
"""

from __future__ import annotations

import resource
import statistics
import time

from .database import Scale, prepare
from .figures import Figure

ROUNDS = 3


def _median_rate(action: object, rows: int) -> float:
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        rates.append(rows / (time.perf_counter() - start))
    return statistics.median(rates)


def measure(scale: Scale) -> list[Figure]:
    submissions = prepare(scale)
    from django.db import connection
    from django.test import Client

    from registry.people.models import Role, User
    from registry.people.services import do_create_user
    from registry.quality.services import do_run_quality_checks

    researcher = User.objects.filter(username="bench_researcher").first() or do_create_user(
        None, "bench_researcher", Role.RESEARCHER)
    client = Client(SERVER_NAME="localhost")
    client.force_login(researcher)

    def export() -> None:
        response = client.get("/api/v1/exports/flat-csv/")
        assert response.status_code == 200
        for _ in response.streaming_content:
            pass

    def copy() -> None:
        with connection.cursor() as cursor:
            raw = cursor.connection.cursor()
            sql = ("COPY (SELECT p.pseudonym, f.name, s.instance, s.status, s.data::text "
                   "FROM submissions_submission s JOIN patients_patient p ON p.id = s.patient_id "
                   "JOIN crfs_formdefinition f ON f.id = s.form_id ORDER BY s.id) TO STDOUT "
                   "WITH CSV")
            with raw.copy(sql) as stream:
                for _ in stream:
                    pass

    copy_rate = _median_rate(copy, submissions)
    export_rate = _median_rate(export, submissions)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    do_run_quality_checks(None, full=True)
    quality_rate = submissions / (time.perf_counter() - start)

    scale_label = f"{scale.label}: {submissions:,} submissions"
    ratio = export_rate / copy_rate
    return [
        Figure("flat CSV export (REST, researcher)", "rows/s", round(export_rate),
               round(copy_rate), round(ratio, 3), ">= 0.5 x COPY", ratio >= 0.5, scale_label),
        Figure("peak RSS of the process after the exports", "MB", round(peak_rss_mb),
               300.0, round(peak_rss_mb / 300, 3), "< 300 MB", peak_rss_mb < 300, scale_label),
        Figure("quality checks, full run", "submissions/s", round(quality_rate), 20_000.0,
               round(quality_rate / 20_000, 3), ">= 20,000/s", quality_rate >= 20_000,
               scale_label),
    ]
