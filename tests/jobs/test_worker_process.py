"""Real worker processes (`celery worker`, prefork pool) on PostgreSQL and Redis: a failing task
does not break the worker for the next, a large export does not fail its worker, and a run
whose worker is killed is failed once its heartbeat stops and can be run again."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from registry.exchange.export_spec import ExportSpec
from registry.exchange.tasks import run_export
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.jobs.services import do_fail_stale_runs, do_request_job, do_rerun_job
from registry.jobs.tasks import ping, run_statistics
from registry.patients.models import Patient
from registry.statistics.models import StatsSnapshot
from tests.jobs.test_worker import finished
from tests.jobs.worker_tasks import leave_connection_broken, process_id, slow_run

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PATIENCE_SECONDS = 60


def test_a_task_that_leaves_its_connection_broken_does_not_break_the_next_task(worker_process):
    worker = worker_process()
    first = process_id.apply_async(queue=worker.queue).get(timeout=PATIENCE_SECONDS)
    broken = leave_connection_broken.apply_async(queue=worker.queue)
    with pytest.raises(RuntimeError, match="broken on purpose"):
        broken.get(timeout=PATIENCE_SECONDS, propagate=True)
    answer = ping.apply_async(queue=worker.queue, ignore_result=False).get(timeout=PATIENCE_SECONDS)
    assert answer == {"answer": "pong", "database": "postgresql"}
    # The same pool process answered: it was not replaced, it recovered.
    assert process_id.apply_async(queue=worker.queue).get(timeout=PATIENCE_SECONDS) == first


def test_an_export_job_of_5000_rows_then_a_statistics_run_both_succeed_on_one_worker(
    worker_process, forms, site_a, curator
):
    Patient.objects.bulk_create(
        Patient(site=site_a, pseudonym=f"SITEA-BULK-{number:05d}", sex="female", year_of_birth=2015)
        for number in range(5000)
    )
    worker = worker_process()
    first = process_id.apply_async(queue=worker.queue).get(timeout=PATIENCE_SECONDS)

    # What do_request_export_job records, sent to this worker's queue.
    export = finished(
        do_request_job(
            curator,
            JobKind.EXPORT,
            worker.on_queue(run_export),
            {"shape": "flat-csv", "spec": ExportSpec().as_parameters()},
        )
    )
    assert export.status == JobStatus.SUCCEEDED, export.error
    assert export.counts == {"rows": 5000}
    assert (export.progress_done, export.progress_total) == (5000, 5000)
    written = Path(export.result_file)
    try:
        with written.open(newline="") as handle:
            assert sum(1 for _ in csv.reader(handle)) == 5001  # the header and every record
    finally:
        written.unlink()

    statistics = finished(
        do_request_job(curator, JobKind.STATISTICS, worker.on_queue(run_statistics))
    )
    assert statistics.status == JobStatus.SUCCEEDED, statistics.error
    assert StatsSnapshot.objects.get(job_run=statistics).data_cut["patients"] == 5000
    assert process_id.apply_async(queue=worker.queue).get(timeout=PATIENCE_SECONDS) == first


def test_a_killed_workers_run_is_failed_once_its_heartbeat_stops_and_its_rerun_succeeds(
    worker_process, celery_worker_thread, forms, curator, settings
):
    heartbeat, limit = 0.2, 2.0
    settings.JOB_STALE_AFTER_SECONDS = limit
    worker = worker_process(JOB_HEARTBEAT_SECONDS=str(heartbeat))
    run = do_request_job(curator, JobKind.STATISTICS, worker.on_queue(slow_run))

    deadline = time.monotonic() + PATIENCE_SECONDS
    beats = set()
    while len(beats) < 3 and time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status == JobStatus.RUNNING:
            beats.add(run.heartbeat_at)
        time.sleep(heartbeat / 2)
    assert len(beats) >= 3, f"run {run.pk} is {run.status}, heartbeats {beats}"
    # Renewed for longer than the limit: a live run is never taken for a dead one.
    time.sleep(limit + heartbeat)
    assert do_fail_stale_runs() == 0

    worker.kill()
    killed = time.monotonic()
    while do_fail_stale_runs() == 0 and time.monotonic() - killed < limit + 10:
        time.sleep(0.1)
    noticed = time.monotonic() - killed
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED and "stopped its heartbeat" in run.error
    assert limit - heartbeat - 0.5 < noticed < limit + heartbeat + 2

    again = finished(do_rerun_job(curator, run))
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert again.rerun_of == run
    assert JobRun.objects.get(pk=run.pk).status == JobStatus.FAILED
