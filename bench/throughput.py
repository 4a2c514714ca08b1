"""Database throughput on PostgreSQL, each figure beside the limit it is compared with:

- flat CSV export (the researchers' REST export, streamed) against `COPY (...) TO STDOUT` of the
  same submissions' columns, in the same run; target >= 0.5 x COPY rows/s;
- a full data-quality run: submissions checked per second; target >= 20,000/s;
- an incremental data-quality run after 100 patients changed: seconds; target < 2 s.

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

    quality_rate = _median_rate(lambda: do_run_quality_checks(None, full=True), submissions)
    incremental_seconds = _incremental_quality_seconds()

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
        Figure("quality checks, incremental run after 100 changed patients", "s",
               round(incremental_seconds, 3), 2.0, round(incremental_seconds / 2.0, 3), "< 2 s",
               incremental_seconds < 2.0, scale_label),
    ]


CHANGED_PATIENTS = 100


def _incremental_quality_seconds() -> float:
    """Median time of an incremental quality run after 100 patients' forms were saved.

    A quality job first catches up (a full run the first time, as the nightly job would), so
    that it is the last successful run the incremental runs start from; each round then marks
    the same 100 patients, spread over the registry, as saved now and runs the checks.
    """
    from django.utils import timezone

    from registry.jobs.models import JobKind, JobStatus
    from registry.jobs.services import do_start_job
    from registry.quality.services import do_run_quality_checks
    from registry.submissions.models import Submission

    job = do_start_job(None, JobKind.QUALITY, full=False)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    ids = list(Submission.objects.order_by("patient_id")
               .values_list("patient_id", flat=True).distinct())
    changed = ids[::max(1, len(ids) // CHANGED_PATIENTS)][:CHANGED_PATIENTS]
    rounds = []
    for _ in range(ROUNDS):
        Submission.objects.filter(patient_id__in=changed).update(updated_at=timezone.now())
        start = time.perf_counter()
        counts = do_run_quality_checks(None, full=False)
        rounds.append(time.perf_counter() - start)
        assert counts["mode"] == "incremental", counts
        assert counts["patients_checked"] == len(changed), counts
    return statistics.median(rounds)
