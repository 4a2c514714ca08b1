"""Runs nobody is doing: a live run renews its heartbeat while its work runs; a run whose
heartbeat stopped, or that no worker started, is failed by the sweep and can be re-run."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from registry.jobs import tasks
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.jobs.services import (
    do_fail_stale_runs,
    do_rerun_job,
    execute_run,
    report_progress,
)

pytestmark = pytest.mark.django_db


def seconds_ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def test_a_run_whose_heartbeat_is_older_than_the_limit_is_failed_and_can_be_rerun(
    curator, forms, eager_tasks, django_capture_on_commit_callbacks
):
    old = seconds_ago(settings.JOB_STALE_AFTER_SECONDS + 5)
    dead = JobRun.objects.create(
        kind=JobKind.STATISTICS, status=JobStatus.RUNNING, started_at=old, heartbeat_at=old
    )
    alive = JobRun.objects.create(
        kind=JobKind.STATISTICS,
        status=JobStatus.RUNNING,
        started_at=old,
        heartbeat_at=timezone.now(),
    )
    assert do_fail_stale_runs() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == JobStatus.FAILED and dead.finished_at
    assert "stopped its heartbeat" in dead.error and "Re-run it" in dead.error
    assert alive.status == JobStatus.RUNNING

    with django_capture_on_commit_callbacks(execute=True):
        again = do_rerun_job(curator, dead)
    again.refresh_from_db()
    assert again.status == JobStatus.SUCCEEDED and again.rerun_of == dead


def test_a_dead_worker_is_noticed_within_a_minute_by_default():
    assert settings.JOB_STALE_AFTER_SECONDS <= 60
    # Several missed beats before a run counts as dead, so a busy database is not a death.
    assert settings.JOB_HEARTBEAT_SECONDS * 5 <= settings.JOB_STALE_AFTER_SECONDS


def test_a_queued_run_no_worker_started_in_time_is_failed_with_a_message_to_rerun(
    curator, forms, eager_tasks, django_capture_on_commit_callbacks
):
    limit = settings.JOB_QUEUED_STALE_AFTER_SECONDS
    lost = JobRun.objects.create(
        kind=JobKind.QUALITY, parameters={"full": True}, created_at=seconds_ago(limit + 5)
    )
    waiting = JobRun.objects.create(kind=JobKind.QUALITY, created_at=seconds_ago(limit - 60))
    assert do_fail_stale_runs() == 1
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert lost.status == JobStatus.FAILED
    assert "No worker started the run" in lost.error and "Re-run it" in lost.error
    assert waiting.status == JobStatus.QUEUED

    with django_capture_on_commit_callbacks(execute=True):
        again = do_rerun_job(curator, lost)
    again.refresh_from_db()
    assert again.status == JobStatus.SUCCEEDED and again.parameters == {"full": True}


def test_the_sweep_is_a_task_for_beat(settings):
    settings.JOB_STALE_AFTER_SECONDS = 30
    old = seconds_ago(31)
    JobRun.objects.create(
        kind=JobKind.EXPORT, status=JobStatus.RUNNING, started_at=old, heartbeat_at=old
    )
    assert tasks.fail_stale_runs.apply().get() == 1
    assert JobRun.objects.get().status == JobStatus.FAILED


def test_the_jobs_page_shows_a_dead_workers_run_as_failed(client, curator, settings):
    settings.JOB_STALE_AFTER_SECONDS = 30
    old = seconds_ago(31)
    run = JobRun.objects.create(
        kind=JobKind.QUALITY, status=JobStatus.RUNNING, started_at=old, heartbeat_at=old
    )
    client.force_login(curator)
    page = client.get(f"/jobs/{run.pk}/").content.decode()
    assert "stopped its heartbeat for more than 30 seconds" in page and "Re-run" in page


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:
            pass  # SQLite's in-memory test database: a write of the other thread in the way
        time.sleep(0.02)
    raise AssertionError("not seen in time")


@pytest.mark.django_db(transaction=True)
def test_a_live_runs_heartbeat_and_progress_are_written_while_its_work_runs(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05
    run = JobRun.objects.create(kind=JobKind.STATISTICS)
    seen = {}

    def work(running: JobRun) -> dict[str, int]:
        stored = JobRun.objects.filter(pk=running.pk)
        claimed_at = stored.get().heartbeat_at
        # The work does not touch the database: only the heartbeat can move these.
        report_progress(running, 1, 4)
        _wait_for(lambda: stored.get().progress_done == 1)
        first = stored.get().heartbeat_at
        report_progress(running, 3, 4)
        _wait_for(lambda: stored.get().progress_done == 3)
        _wait_for(lambda: stored.get().heartbeat_at > first)
        seen.update(claimed=claimed_at, first=first, total=stored.get().progress_total)
        return {"done": 3}

    finished = execute_run(run.pk, work)
    assert finished.status == JobStatus.SUCCEEDED
    assert seen["first"] > seen["claimed"] and seen["total"] == 4
    assert not [
        thread for thread in threading.enumerate() if thread.name == f"job-run-{run.pk}-heartbeat"
    ]
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total) == (4, 4)
