"""With Redis and a real Celery worker (`make test-services`): runs are queued, picked up by the
worker, and recorded; a failing task is recorded as failed and its re-run succeeds."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.jobs.services import do_rerun_job, do_start_job
from registry.quality.models import QualityIssue
from registry.statistics.models import StatsSnapshot
from tests.quality.builders import LESION, clean_patient

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# How long to wait for the worker before calling it a failure; not a measure of speed.
PATIENCE_SECONDS = 60


def finished(run: JobRun) -> JobRun:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {PATIENCE_SECONDS} s")


def test_a_queued_statistics_run_is_done_by_the_worker(
    celery_worker_thread, forms, site_a, curator
):
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    clean_patient(site_a)
    run = do_start_job(curator, JobKind.STATISTICS)
    run.refresh_from_db()
    assert run.task_id  # it went through the broker
    run = finished(run)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert StatsSnapshot.objects.get(job_run=run).data_cut["patients"] == 1


def test_a_queued_quality_run_is_done_by_the_worker(celery_worker_thread, forms, site_a, curator):
    who = clean_patient(site_a)
    who.submissions.filter(form__name="dysraphic_lesion").update(
        data={**LESION, "lesion_level": "lumbar"}
    )
    run = finished(do_start_job(curator, JobKind.QUALITY, full=True))
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.counts["new"] == 1
    assert QualityIssue.objects.get().rule == "mmc_level_outside_cervical"


def test_a_task_that_raises_is_recorded_as_failed_and_its_rerun_succeeds(
    celery_worker_thread, forms, curator, monkeypatch
):
    def broken(progress=None):
        raise RuntimeError("statistics broke on purpose")

    # The worker runs in a thread of this process, so it sees the same module.
    monkeypatch.setattr("registry.statistics.services.compute_statistics", broken)
    failed = finished(do_start_job(curator, JobKind.STATISTICS))
    assert failed.status == JobStatus.FAILED
    assert "statistics broke on purpose" in failed.error

    monkeypatch.undo()
    again = finished(do_rerun_job(curator, failed))
    assert again.status == JobStatus.SUCCEEDED and again.rerun_of == failed
    assert StatsSnapshot.objects.filter(job_run=again).exists()
